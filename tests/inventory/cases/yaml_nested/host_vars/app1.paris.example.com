level: hv-app1
