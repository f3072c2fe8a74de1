# driftcheck collector prelude. build_script() puts `dc_m=...` before this and the calls for the
# declared items after it; the whole script runs as `sh -s` over one exec channel.
# Needs a POSIX shell and coreutils or busybox only. Every section looks like
#   ::driftcheck:NONCE:begin:NAME
#   <stdout of the section, raw bytes>
#   ::driftcheck:NONCE:stderr:NAME     (only for sections that run a command)
#   <its stderr>
#   ::driftcheck:NONCE:end:NAME:STATUS (STATUS: the exit status, or "unsupported")
# Each marker other than begin is preceded by one extra newline that belongs to no body.
# Declared items are named by their index (file.3, service.0): names are never echoed back.

LC_ALL=C
export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH

dc_begin() { printf '%s:begin:%s\n' "$dc_m" "$1"; }
dc_end() { printf '\n%s:end:%s:%s\n' "$dc_m" "$1" "$2"; }

# dc_run NAME CMD [ARG...]: CMD's stdout is the body, its stderr is kept apart, its status ends it.
dc_run() {
	dc_name=$1
	shift
	dc_begin "$dc_name"
	{ dc_err=$("$@" 2>&1 >&3 3>&-); dc_rc=$?; } 3>&1
	printf '\n%s:stderr:%s\n%s' "$dc_m" "$dc_name" "$dc_err"
	dc_end "$dc_name" "$dc_rc"
}

# dc_skip NAME REASON: the tool is not there; the reason is the body.
dc_skip() {
	dc_begin "$1"
	printf '%s' "$2"
	dc_end "$1" unsupported
}

dc_has() { command -v "$1" >/dev/null 2>&1; }

# --- host facts ---------------------------------------------------------------------------

dc_os_release() { cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; }

# Raw birth and modification times; facts.py picks (machine-id birth, its mtime, / birth).
dc_provisioned() {
	printf 'machine-id %s\n' "$(stat -c '%W %Y' /etc/machine-id 2>/dev/null)"
	printf 'root %s\n' "$(stat -c '%W' / 2>/dev/null)"
}

# Processes come and go between the glob and cat: a vanished one is not an error.
dc_procstat() {
	cat /proc/[0-9]*/stat 2>/dev/null
	return 0
}

dc_facts() {
	dc_run facts.os-release dc_os_release
	dc_run facts.kernel uname -r
	dc_run facts.uptime cat /proc/uptime
	dc_run facts.clock date +%s
	dc_run facts.provisioned dc_provisioned
	dc_run facts.procstat dc_procstat
	dc_run facts.pid1 cat /proc/1/cmdline
}

# --- packages -----------------------------------------------------------------------------

# busybox's rpm applet only unpacks packages: "rpm -qa" needs the real rpm.
dc_real_rpm() {
	dc_has rpm || return 1
	case $(rpm --version 2>/dev/null) in
	"RPM version"*) return 0 ;;
	esac
	return 1
}

dc_packages() {
	if dc_has dpkg-query; then
		dc_run packages.dpkg dpkg-query -W -f '${Status}\t${Package}\t${Version}\t${Architecture}\n'
	else
		dc_skip packages.dpkg 'no dpkg-query'
	fi
	if dc_real_rpm; then
		dc_run packages.rpm rpm -qa --queryformat '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n'
	else
		dc_skip packages.rpm 'no rpm (busybox has an rpm applet that cannot list packages)'
	fi
	if [ -e /lib/apk/db/installed ]; then
		dc_run packages.apk cat /lib/apk/db/installed
	else
		dc_skip packages.apk 'no /lib/apk/db/installed'
	fi
}

# --- services -----------------------------------------------------------------------------

# Succeeds when systemd runs this system (sd_booted()'s test) and systemctl is there.
dc_systemd() {
	if [ -d /run/systemd/system ] && dc_has systemctl; then
		dc_begin services
		dc_end services 0
		return 0
	fi
	dc_skip services 'no systemd: PID 1 is not systemd or systemctl is missing'
	return 1
}

# dc_unit INDEX UNIT
dc_unit() {
	dc_run "service.$1" systemctl show -p Id,LoadState,ActiveState,UnitFileState -- "$2"
}

# --- files --------------------------------------------------------------------------------

# Only the error's last part (strerror) is printed: stat's message quotes the path.
dc_stat() {
	if dc_out=$(stat -c '%f %u %g %s %U %G' -- "$1" 2>&1); then
		printf 'stat %s\n' "$dc_out"
		return 0
	fi
	printf 'staterr %s\n' "${dc_out##*: }"
	return 1
}

# dc_digest PATH WANT_CONTENT CAP: regular files only (never follows a symlink or
# opens a FIFO or a device).
dc_digest() {
	if [ ! -f "$1" ] || [ -L "$1" ]; then
		return 0
	fi
	if [ ! -r "$1" ]; then
		echo 'readerr Permission denied'
		return 0
	fi
	if ! dc_out=$(sha256sum <"$1" 2>/dev/null); then
		echo 'readerr sha256sum failed'
		return 0
	fi
	printf 'sha256 %s\n' "${dc_out%% *}"
	if [ "$2" = 1 ]; then
		printf 'content %s\n' "$3"
		head -c "$(($3 + 1))" <"$1" | base64
	fi
}

# dc_file INDEX PATH WANT_CONTENT CAP (one byte more than CAP is read: it shows truncation)
dc_file() {
	dc_begin "file.$1"
	if dc_stat "$2"; then
		dc_digest "$2" "$3" "$4"
	fi
	dc_end "file.$1" 0
}

dc_done() {
	dc_begin done
	dc_end done 0
}
