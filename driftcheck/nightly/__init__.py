"""After the scan: publishing into a report directory (publish.py, reportdir.py), history, deltas
since the previous run, waivers, the trend block, locking and run folders.

The order a scan uses them in (publish.py wires it):

    with locked_report_dir(path) as root:                          # opened once, checked, flock
        report = apply_waivers(report, load_waivers(path), today)   # waived / expired waivers
        history = History.in_report_dir(root, create=True)
        report = annotate(report, history)                          # first/last seen, new, changes
        write_run_folder(root, report, files)                       # runs/<id>/, complete
        history.record(report)                                      # one transaction: the commit
        point_latest(root, run_id)                                  # only now `latest` moves
        prune_runs(root, keep)

driftcheck.nightly.publish does exactly this; its docstring says why in this order.
"""
