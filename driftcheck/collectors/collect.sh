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
# shellcheck shell=sh disable=SC2154  # dc_m and the other dc_ settings come from the prelude

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

dc_nl='
'

# --- host facts ---------------------------------------------------------------------------

# Facts are read with the shell's own `read` where they can be: every process costs (about 2 ms
# in a small container or VM), and a fleet-wide scan pays it on every host.

# dc_cat FILE: a text file through `read` (no process); fails when FILE is not a readable
# regular file (a FIFO planted at /etc/os-release would block the read for ever).
dc_cat() {
	[ -f "$1" ] && [ -r "$1" ] || return 1
	while IFS= read -r dc_l || [ -n "$dc_l" ]; do
		printf '%s\n' "$dc_l"
	done <"$1"
}

dc_os_release() { dc_cat /etc/os-release || dc_cat /usr/lib/os-release; }

# The host's clock without `date`: boot time (btime, wall clock) plus the time since boot.
dc_clock() {
	while read -r dc_k dc_v _; do
		if [ "$dc_k" = btime ]; then
			read -r dc_up _ </proc/uptime || break
			printf '%s\n' "$((dc_v + ${dc_up%%.*}))"
			return 0
		fi
	done </proc/stat
	date +%s
}

# Raw birth and modification times; facts.py picks (machine-id birth, its mtime, / birth).
# One stat for both paths; the names are fixed here, never data from the host.
dc_provisioned() {
	stat -c '%n %W %Y' -- /etc/machine-id / 2>/dev/null | while read -r dc_n dc_w dc_y; do
		case $dc_n in
		/etc/machine-id) printf 'machine-id %s %s\n' "$dc_w" "$dc_y" ;;
		/) printf 'root %s\n' "$dc_w" ;;
		esac
	done
}

# One line per process, "PID (COMM) STATE PPID", cut from /proc/PID/stat (procs.py says why
# it cannot be forged); without sed, the whole records. Processes come and go between the glob
# and the read: a vanished one is not an error. An argument keeps only that STATE.
dc_procs() {
	sed -n 's/^\([0-9][0-9]* (.*) '"${1:-[A-Za-z]}"' -\{0,1\}[0-9][0-9]*\)\( -\{0,1\}[0-9]\{1,\}\)\{20\}.*$/\1/p' \
		/proc/[0-9]*/stat 2>/dev/null
	return 0
}

# The zombies' lines read again a second later: a parent reaps a child that has just exited
# within milliseconds, so only a zombie still there is one its parent does not reap (procs.py).
# Asked for only when the table has a zombie.
dc_zombies() {
	sleep 1
	dc_procs Z
}

dc_procstat() {
	cat /proc/[0-9]*/stat 2>/dev/null
	return 0
}

dc_facts() {
	dc_run facts.os-release dc_os_release
	dc_run facts.kernel dc_cat /proc/sys/kernel/osrelease
	dc_run facts.uptime dc_cat /proc/uptime
	dc_run facts.clock dc_clock
	dc_run facts.provisioned dc_provisioned
	if dc_has sed; then
		dc_t=$(dc_procs)
		dc_run facts.procs printf '%s\n' "$dc_t"
		case $dc_t in *") Z "*) dc_run facts.zombies dc_zombies ;; esac
	else
		dc_run facts.procstat dc_procstat
	fi
	dc_run facts.pid1 cat /proc/1/cmdline
	dc_run facts.machine dc_machine
}

# Which machine this is (peers: two inventory names of one machine vote once): `PATH value`
# for its machine-id, this boot's id and the kernel's host name, read without a process.
dc_machine() {
	for dc_f in /etc/machine-id /proc/sys/kernel/random/boot_id /proc/sys/kernel/hostname; do
		printf '%s ' "$dc_f"
		dc_cat "$dc_f" || echo
	done
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
		# shellcheck disable=SC2016  # ${...} is dpkg-query's format, not the shell's
		dc_run packages.dpkg dpkg-query -W -f '${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n'
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

# dc_units UNIT...: one systemctl for every declared unit (each call costs ~12 ms of CPU on
# the host). It prints one block per unit, in argument order, blocks separated by a blank line;
# unit names were validated when the state was loaded, so none can shift the blocks.
dc_units() {
	dc_run services.show systemctl show -p Id,LoadState,ActiveState,UnitFileState -- "$@"
}

# dc_all_units: every service unit file with its enablement, and every loaded service unit with
# its active state, in systemd's JSON (for peers: a unit disabled and stopped is not loaded, so
# list-units alone would not show it). Two processes, only when peers ask for them.
dc_all_units() {
	dc_run units.files systemctl list-unit-files --type=service --no-pager --output=json
	dc_run units.loaded systemctl list-units --all --type=service --no-pager --output=json
}

# --- config trees (peers) -----------------------------------------------------------------

# dc_tree DEPTH ROOT...: every entry under the roots, never following a symlink or leaving a
# file system, found by ONE find: tree.stat (stat's raw mode, owner, group, size,
# mtime, ctime, name; a name with a newline is left out and counted as one line `N`, so no name
# can forge an entry), tree.sum (md5sum of the regular files up to 1 MiB, by stat's own type,
# so never a FIFO or a device; dpkg records md5, so a digest reads as a package's would; a
# bigger file, a binary in /usr/local/bin, is compared by size and mtime; dpkg's conffiles are
# left out when dc_conffiles ran: its own digests of them, from the same md5sum, are what peers
# compare) and tree.links (where each symlink points, QUOTING_STYLE=escape). Entries deeper
# than DEPTH levels below a root are not listed: the parser sees one at DEPTH and says so.
dc_tree() {
	dc_depth=$1
	shift
	# one find for every root (each absolute: never taken for an option; one that is not there,
	# or a glob that matched nothing, is find's error, which goes nowhere)
	dc_ts=$(find "$@" -xdev -maxdepth "$dc_depth" \( -name "*$dc_nl*" -prune -exec printf 'N\n' \; \) \
		-o -exec stat -c '%f %U %G %s %Y %Z %n' -- {} + 2>/dev/null)
	dc_begin tree.stat
	[ -z "$dc_ts" ] || printf '%s\n' "$dc_ts"
	dc_end tree.stat 0
	dc_begin tree.sum
	dc_tree_pick file | xargs -0 -r md5sum -- 2>/dev/null
	dc_end tree.sum 0
	dc_begin tree.links
	dc_tree_pick symlink | xargs -0 -r env QUOTING_STYLE=escape stat -c '%N' -- 2>/dev/null
	dc_end tree.links 0
}

# dc_tree_pick file|symlink: the paths of dc_tree's stat lines of that type, NUL-terminated
# (a regular file: hex mode 8xxx and at most 1 MiB, not a conffile; a symlink: axxx).
# shellcheck disable=SC2016 # $0 and the rest are awk's, not the shell's
dc_tree_awk='
BEGIN { n = split(ENVIRON["dc_cf_paths"], c, "\n"); for (i = 1; i <= n; i++) skip[c[i]] = 1 }
NF >= 7 {
	t = substr($1, 1, length($1) - 3)
	p = $0
	for (i = 0; i < 6; i++) sub(/^[^ ]* /, "", p)
	if (want == "file" && t == "8" && $4 <= 1048576 && !(p in skip)) printf "%s%c", p, 0
	if (want == "symlink" && t == "a") printf "%s%c", p, 0
}'
dc_tree_pick() {
	[ -n "$dc_ts" ] || return 0
	printf '%s\n' "$dc_ts" | dc_cf_paths=${dc_cf_paths-} awk -v want="$1" "$dc_tree_awk"
}

# dc_keys FILE...: each authorized_keys file's first 64 KiB in section tree.key.I, its path on
# the first line (a regular file only: never a FIFO, never through a symlink).
dc_keys() {
	dc_k=0
	for dc_root; do
		if [ -f "$dc_root" ] && [ ! -L "$dc_root" ] && [ -r "$dc_root" ]; then
			dc_begin "tree.key.$dc_k"
			printf '%s\n' "$dc_root"
			head -c 65536 <"$dc_root"
			dc_end "tree.key.$dc_k" 0
			dc_k=$((dc_k + 1))
		fi
	done
}

# --- package config files (peers, modified_config) ----------------------------------------

# Config files come with the digest their package manager recorded; what they are now comes from
# ONE digest tool and ONE stat over all of them (dc_sum_stat). Paths come from the package
# database, one a line; they are split on newlines only, with globbing off, so spaces and glob
# characters stay literal.

# dc_conffiles: dpkg's conffiles and the md5 each package recorded (stderr merged: the parser
# knows dpkg-query's warning lines); obsolete ones are left out.
dc_conffiles() {
	if ! dc_has dpkg-query; then
		dc_skip conffiles.dpkg 'no dpkg-query'
		return 0
	fi
	dc_begin conffiles.dpkg
	dc_cf=$(dpkg-query -W -f '${Package}\n${Conffiles}\n' 2>&1)
	dc_rc=$?
	printf '%s' "$dc_cf"
	dc_end conffiles.dpkg "$dc_rc"
	dc_cf=$(printf '%s\n' "$dc_cf" | sed -n 's/^ \(\/.*\) [0-9a-f]\{32\}$/\1/p')
	dc_cf_paths=$dc_cf # dc_tree need not digest them again
	dc_sum_stat conffiles.dpkg md5sum "$dc_cf"
}

# dc_conffiles_rpm: rpm's %config files (flags with c) and the digest rpm recorded. rpm lists
# every file of every package, so the host keeps the config ones (grep); the last line is rpm's
# exit status. Ghosts (flag g) have no content to check.
dc_conffiles_rpm() {
	if ! dc_real_rpm; then
		dc_skip conffiles.rpm 'no rpm'
		return 0
	fi
	dc_begin conffiles.rpm
	dc_cf=$({
		rpm -qa --queryformat '[%{FILEFLAGS:fflags}\t%{=FILEDIGESTALGO}\t%{FILEDIGESTS}\t%{=NAME}\t%{FILENAMES}\n]' 2>&1
		echo "rpm-exit $?"
	} | grep -e '^[a-z]*c[a-z]*	' -e '^rpm-exit ' -e '^error:')
	printf '%s' "$dc_cf"
	dc_end conffiles.rpm 0
	dc_cf=$(printf '%s\n' "$dc_cf" | sed -n 's/^[a-fh-z]*c[a-fh-z]*	[0-9]*	[0-9a-f][0-9a-f]*	[^	]*	\(\/.*\)$/\1/p')
	dc_sum_stat conffiles.rpm sha256sum "$dc_cf"
}

# dc_sum_stat PREFIX TOOL PATHS: sections PREFIX.stat (type, mode, owner of every path, never
# following a symlink) and PREFIX.sum (TOOL over the regular files among them: a FIFO would block
# the digest tool's open for ever, a device could be read without end, a symlink can lead to
# either; what they are is in the stat section).
dc_sum_stat() {
	dc_pre=$1
	dc_tool=$2
	dc_oifs=$IFS
	IFS=$dc_nl
	set -f
	# shellcheck disable=SC2086 # split on newlines only, globbing off: see above
	set -- $3
	IFS=$dc_oifs
	set +f
	if [ "$#" = 0 ]; then
		dc_run "$dc_pre.stat" true
		dc_run "$dc_pre.sum" true
		return 0
	fi
	dc_run "$dc_pre.stat" stat -c '%f %U %G %Y %Z %n' -- "$@"
	for dc_p; do
		shift
		if [ -f "$dc_p" ] && [ ! -L "$dc_p" ]; then
			set -- "$@" "$dc_p"
		fi
	done
	if [ "$#" = 0 ]; then
		dc_run "$dc_pre.sum" true
		return 0
	fi
	dc_run "$dc_pre.sum" "$dc_tool" -- "$@"
}

# --- files --------------------------------------------------------------------------------

# Only the error's last part (strerror) is printed: stat's message quotes the path. %Y %Z (mtime,
# ctime) are evidence only: when a file changed, never compared.
dc_stat() {
	if dc_out=$(stat -c '%f %u %g %s %U %G %Y %Z' -- "$1" 2>&1); then
		printf 'stat %s\n' "$dc_out"
		return 0
	fi
	printf 'staterr %s\n' "${dc_out##*: }"
	return 1
}

# dc_digest PATH WHAT CAP: WHAT is 0 (stat only: no process spent on a digest nobody
# compares), 1 (digest) or 2 (digest and content). Regular files only (never follows a symlink
# or opens a FIFO or a device).
dc_digest() {
	if [ "$2" = 0 ] || [ ! -f "$1" ] || [ -L "$1" ]; then
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
	if [ "$2" = 2 ]; then
		printf 'content %s\n' "$3"
		head -c "$(($3 + 1))" <"$1" | base64
	fi
}

# Declared files cost as few processes as can be (each is about 2 ms on a host, and states list
# dozens): build_script() sends the files expected to exist through one `stat` (dc_stat_batch)
# and those it digests through one `sha256sum` (dc_sum_batch), in index order. A batch is used
# only when its command succeeded for every path, so line K is file K's; otherwise each file
# falls back to its own stat or digest, which also gives the exact reason of a failure.
dc_stats=
dc_sums=
dc_sb=0
dc_hb=0

# dc_stat_batch PATH...: the stat line of every path (no name is printed: %n is not used).
dc_stat_batch() {
	if dc_stats=$(stat -c '%f %u %g %s %U %G %Y %Z' -- "$@" 2>/dev/null); then
		dc_stats=$dc_stats$dc_nl
		dc_sb=1
	fi
}

# dc_sum_batch PATH...: only when every path is a readable regular file (not a symlink), as
# dc_digest requires. Paths with a newline, CR or backslash never reach it: sha256sum would
# escape the names it echoes.
dc_sum_batch() {
	for dc_p; do
		if [ ! -f "$dc_p" ] || [ -L "$dc_p" ] || [ ! -r "$dc_p" ]; then
			return 0
		fi
	done
	if dc_sums=$(sha256sum -- "$@" 2>/dev/null); then
		dc_sums=$dc_sums$dc_nl
		dc_hb=1
	fi
}

# dc_next_stat, dc_next_sum: take the first line of a batch's output into dc_line.
dc_next_stat() {
	dc_line=${dc_stats%%"$dc_nl"*}
	dc_stats=${dc_stats#*"$dc_nl"}
}

dc_next_sum() {
	dc_line=${dc_sums%%"$dc_nl"*}
	dc_sums=${dc_sums#*"$dc_nl"}
}

# dc_absent PATH: succeeds when PATH is certainly not there, known without a process: lstat
# fails (neither -e nor -L) while its directory is a searchable directory (so not EACCES).
dc_absent() {
	[ -e "$1" ] || [ -L "$1" ] && return 1
	case $1 in
	*/*) dc_dir=${1%/*} ;;
	*) dc_dir=. ;;
	esac
	[ -d "${dc_dir:-/}" ] && [ -x "${dc_dir:-/}" ]
}

# dc_file INDEX PATH WHAT CAP HOW (one byte more than CAP is read: it shows truncation). HOW:
# s: in the stat batch, h: in both batches, a: declared absent, -: on its own. A file takes its
# batch lines whatever happens to it, so the next file's lines stay its own.
dc_file() {
	dc_begin "file.$1"
	dc_st=
	dc_sum=
	case $5 in
	s | h)
		if [ "$dc_sb" = 1 ]; then
			dc_next_stat
			dc_st=$dc_line
		fi
		if [ "$dc_hb" = 1 ] && [ "$5" = h ]; then
			dc_next_sum
			dc_sum=${dc_line#\\}
			dc_sum=${dc_sum%% *}
		fi
		;;
	esac
	if [ -n "$dc_st" ]; then
		printf 'stat %s\n' "$dc_st"
		dc_file_digest "$@"
	elif [ "$5" = a ] && dc_absent "$2"; then
		echo 'staterr No such file or directory'
	elif dc_stat "$2"; then
		dc_file_digest "$@"
	fi
	dc_end "file.$1" 0
}

# dc_file_digest: the batch's digest if there is one, else dc_digest.
dc_file_digest() {
	if [ -z "$dc_sum" ]; then
		dc_digest "$2" "$3" "$4"
		return 0
	fi
	printf 'sha256 %s\n' "$dc_sum"
	if [ "$3" = 2 ]; then
		printf 'content %s\n' "$4"
		head -c "$(($4 + 1))" <"$2" | base64
	fi
}

# --- declared directories -----------------------------------------------------------------

# dc_dir INDEX PATH: section dir.INDEX, the entry names of one declared directory, without a
# process. The first line says what PATH is: `dir`, `absent`, `notdir TYPE` (a symlink is never
# followed) or `err WHY`; after `dir`, every entry name, each followed by a NUL byte: a name
# holds neither NUL nor `/`, so no name (a newline in it, a marker) can forge another. The
# shell's globs list them, hidden ones too; a pattern that matched nothing stays as written and
# names nothing that exists, so it is left out.
dc_dir() {
	dc_begin "dir.$1"
	dc_d=$2
	if [ -L "$dc_d" ]; then
		echo 'notdir symlink'
	elif [ -d "$dc_d" ] && { [ ! -r "$dc_d" ] || [ ! -x "$dc_d" ]; }; then
		echo 'err Permission denied'
	elif [ -d "$dc_d" ]; then
		echo dir
		for dc_e in "$dc_d"/* "$dc_d"/.[!.]* "$dc_d"/..?*; do
			if [ -e "$dc_e" ] || [ -L "$dc_e" ]; then
				printf '%s\0' "${dc_e##*/}"
			fi
		done
	elif [ -f "$dc_d" ]; then
		echo 'notdir file'
	elif [ -p "$dc_d" ]; then
		echo 'notdir fifo'
	elif [ -S "$dc_d" ]; then
		echo 'notdir socket'
	elif [ -c "$dc_d" ] || [ -b "$dc_d" ]; then
		echo 'notdir device'
	elif [ -e "$dc_d" ]; then
		echo 'notdir other'
	elif dc_absent "$dc_d"; then
		echo absent
	else
		echo 'err cannot stat: its parent is not a searchable directory'
	fi
	dc_end "dir.$1" 0
}

# --- records, for evidence (how a finding came to be) ------------------------------------------

# dc_records LOGBYTES WTMPBYTES: the host's time zone, bounded tails of dpkg.log (the lines of
# package actions only) and of apt's history.log, rpm's install times, and the last WTMPBYTES of
# wtmp in base64 (binary utmp records; records.py parses them, never `last`). Regular files only:
# a FIFO planted at a log's path would block the read for ever.
dc_records() {
	dc_run records.tz dc_zone
	dc_log records.dpkg /var/log/dpkg.log dc_dpkg_log "$1"
	dc_log records.apt /var/log/apt/history.log dc_tail "$1"
	if dc_real_rpm; then
		dc_run records.rpm rpm -qa --queryformat '%{INSTALLTIME} %{NAME} %{VERSION}-%{RELEASE}\n'
	else
		dc_skip records.rpm 'no rpm'
	fi
	if dc_has base64; then
		dc_log records.wtmp /var/log/wtmp dc_wtmp "$2"
	else
		dc_skip records.wtmp 'no base64'
	fi
}

dc_zone() {
	printf 'zone %s\n' "$(readlink /etc/localtime 2>/dev/null)"
	date +%z
}

# dc_log NAME FILE CMD ARG: CMD ARG FILE as section NAME when FILE is a readable regular file.
dc_log() {
	if [ ! -f "$2" ]; then
		dc_skip "$1" "no $2"
	elif [ ! -r "$2" ]; then
		dc_skip "$1" "$2 is not readable"
	else
		dc_run "$1" "$3" "$4" "$2"
	fi
}

dc_dpkg_log() {
	tail -c "$1" "$2" | grep -E '^[0-9-]+ [0-9:]+ (install|upgrade|remove|purge|configure) '
	return 0
}

dc_tail() {
	tail -c "$1" "$2"
}

dc_wtmp() {
	tail -c "$1" "$2" | base64
}

dc_done() {
	dc_begin 'done'
	dc_end 'done' 0
}

# --- containers ---------------------------------------------------------------------------
# Discovery (containers.ENGINE: `container inspect` JSON of every container), then one exec per
# declared container with a state: dc_inner. Engines never read the script's own stdin.

# podman-docker's `docker` runs podman: its containers are podman's, counted once. Its
# `docker` is a small shell script that execs podman, or podman itself: both are known without
# starting podman (~30 ms of CPU); anything else is asked its version.
dc_docker_is_podman() {
	dc_dk=$(command -v docker)
	if [ -f "$dc_dk" ]; then
		[ "$dc_dk" -ef "$(command -v podman)" ] && return 0
		case $(head -c 256 "$dc_dk" 2>/dev/null | tr -d '\000') in
		'#!'*'exec /usr/bin/podman '*) return 0 ;;
		esac
	fi
	case $(docker --version 2>/dev/null </dev/null) in
	podman*) return 0 ;;
	esac
	return 1
}

# A docker client alone (no socket, no DOCKER_HOST) means no docker engine on this host.
dc_docker_daemon() {
	[ -n "${DOCKER_HOST:-}" ] || [ -S /var/run/docker.sock ] || [ -S /run/docker.sock ]
}

# dc_inspect ENGINE RC: every container's `container inspect` record, as one JSON array.
# dc_ids: what `ps -a -q` printed, stderr too, and RC its exit status: on failure that is the
# reason; else the IDs are its 64-hex lines (a warning line is no ID).
dc_inspect() {
	if [ "$2" != 0 ]; then
		printf '%s\n' "$dc_ids" >&2
		return "$2"
	fi
	dc_ids=$(printf '%s\n' "$dc_ids" | sed -n '/^[0-9a-f]\{64\}$/p')
	if [ -z "$dc_ids" ]; then
		echo '[]'
		return 0
	fi
	# shellcheck disable=SC2086 # container IDs are hex words: splitting them is intended
	"$1" container inspect $dc_ids </dev/null
}

dc_conmon() {
	grep -q -x -E 'conmon|conmonrs' /proc/[0-9]*/comm 2>/dev/null
}

# dc_engine ENGINE: its containers, and (for the exec guard) the names it sees running.
dc_engine() {
	dc_ids=$("$1" ps -a -q --no-trunc </dev/null 2>&1)
	dc_irc=$?
	dc_run "containers.$1" dc_inspect "$1" "$dc_irc"
	dc_up=
	if [ "$dc_irc" = 0 ] && [ -n "$dc_ids" ]; then # no container: no second `ps` (~35 ms each)
		dc_up=$("$1" ps --filter status=running --format '{{.Names}}' </dev/null 2>/dev/null) || dc_up=
	fi
	case $1 in
	podman) dc_up_podman=$dc_up ;;
	docker) dc_up_docker=$dc_up ;;
	esac
}

# dc_containers [running]: `running` when only running containers matter (what changed in them
# since they started, with peers): podman runs each container under conmon, so without a conmon
# process podman is not started at all (its start-up costs ~35 ms of CPU, more than the rest of
# a plain collection).
dc_containers() {
	dc_up_podman=
	dc_up_docker=
	if ! dc_has podman; then
		dc_skip containers.podman 'no podman'
	elif [ "${1-}" = running ] && ! dc_conmon; then
		dc_skip containers.podman 'no podman container running (no conmon process)'
	else
		dc_engine podman
	fi
	if ! dc_has docker; then
		dc_skip containers.docker 'no docker'
	elif dc_docker_is_podman; then
		dc_skip containers.docker 'docker is podman (podman-docker): its containers are podman'"'"'s'
	elif ! dc_docker_daemon; then
		dc_skip containers.docker 'a docker client but no docker daemon (no docker.sock, no DOCKER_HOST)'
	else
		dc_engine docker
	fi
}

# dc_engine_of NAME: sets dc_eng to the engine that saw NAME running during discovery.
dc_engine_of() {
	case "$dc_nl$dc_up_podman$dc_nl" in
	*"$dc_nl$1$dc_nl"*)
		dc_eng=podman
		return 0
		;;
	esac
	case "$dc_nl$dc_up_docker$dc_nl" in
	*"$dc_nl$1$dc_nl"*)
		dc_eng=docker
		return 0
		;;
	esac
	return 1
}

# dc_inner INDEX NAME SCRIPT ARGV...: the inner collector script on the stdin of ARGV run by
# `ENGINE exec`, its output the body of section inner.INDEX. Exactly one exec, in the
# foreground: the exec'd shell waits for every child it starts, so nothing is left to a PID 1
# that might never reap it. ARGV (build_script: `/bin/sh -c BOUNDED_SH SECONDS`) also bounds it
# in time inside the container, where killing the engine's client would not reach it.
dc_inner() {
	if ! dc_engine_of "$2"; then
		dc_skip "inner.$1" 'not running when discovery looked'
		return 0
	fi
	dc_i=$1
	dc_n=$2
	dc_s=$3
	shift 3
	printf '%s' "$dc_s" | dc_run "inner.$dc_i" "$dc_eng" exec -i "$dc_n" "$@"
}

# --- what changed in running containers ---------------------------------------------------
# dc_changed ENGINE FORMAT MAX ALL RULE...: section changed.ENGINE. For each container discovery
# saw running, and that the rules (or ALL=1) say to check: `container NAME`, then the changed
# paths that count, one per line (`A PATH` added, `C PATH` changed, `D PATH` deleted; FORMAT json:
# PATH is podman's JSON string, escapes and all), at most MAX, then `= ADDED CHANGED DELETED RC`:
# every path that counts, listed or not, and the exit status of `ENGINE diff`. The diff is read
# as it comes (awk): a container that changed a million paths costs MAX lines, not a million.
# RULEs: `+NAME` check NAME, `-NAME` never; `NAME=PATH` or `*=PATH` (every container): a path
# the container may write, written as the engine writes paths (FORMAT json: JSON-escaped). A
# path counts unless it is a writable path or below one, or (added or changed) a directory on
# the way to one. podman reports `C /etc` for every container (`A /etc` where the image has
# none): it makes the mount points for hosts, hostname and resolv.conf there. That line alone
# does not count.
# shellcheck disable=SC2016 # $0 and the rest are awk's, not the shell's
dc_changed_awk='
function see(k, q, p, i, x) {
	if (k == "" || (fmt == "json" && k != "D" && q == "/etc")) return
	for (i = 1; i <= nw; i++) {
		x = w[i]
		if (q == x || substr(q, 1, length(x) + 1) == x "/") return
		if (k != "D" && (q == "/" || substr(x, 1, length(q) + 1) == q "/")) return
	}
	c[k]++
	if (shown < max) {
		shown++
		print k " " substr(p, 1, 32768)
	}
}
BEGIN {
	name = ARGV[1]
	fmt = ARGV[2]
	max = ARGV[3] + 0
	for (i = 4; i < ARGC; i++) {
		e = index(ARGV[i], "=")
		r = substr(ARGV[i], 1, e - 1)
		if (e > 1 && (r == name || r == "*")) w[++nw] = substr(ARGV[i], e + 1)
	}
	ARGC = 1
	rc = 1
}
/^rc=[0-9]+$/ { rc = substr($0, 4) + 0; next }
fmt == "json" {
	if ($0 ~ /^[ \t]*"added":/) k = "A"
	else if ($0 ~ /^[ \t]*"changed":/) k = "C"
	else if ($0 ~ /^[ \t]*"deleted":/) k = "D"
	else if ($0 ~ /^[ \t]*"\//) {
		p = $0
		sub(/^[ \t]+/, "", p)
		sub(/,$/, "", p)
		see(k, substr(p, 2, length(p) - 2), p)
	}
	next
}
/^[ACD] \// { see(substr($0, 1, 1), substr($0, 3), substr($0, 3)) }
END { printf "= %d %d %d %d\n", c["A"], c["C"], c["D"], rc }
'

# dc_changed_want NAME ALL RULE...: whether NAME's changes are looked at.
dc_changed_want() {
	dc_cw=$1
	dc_ca=$2
	shift 2
	for dc_cr; do
		case $dc_cr in
		"-$dc_cw") return 1 ;;
		"+$dc_cw") return 0 ;;
		esac
	done
	[ "$dc_ca" = 1 ]
}

dc_changed_each() {
	dc_ce=$1
	dc_cf=$2
	dc_cx=$3
	dc_ca=$4
	shift 4
	set -f
	for dc_cn in $dc_cu; do
		case $dc_cn in
		[!A-Za-z0-9]* | *[!A-Za-z0-9_.-]*) continue ;;
		esac
		dc_changed_want "$dc_cn" "$dc_ca" "$@" || continue
		printf 'container %s\n' "$dc_cn"
		{
			if [ "$dc_cf" = json ]; then
				"$dc_ce" diff --format json "$dc_cn" </dev/null
			else
				"$dc_ce" diff "$dc_cn" </dev/null
			fi
			printf '\nrc=%s\n' "$?"
		} | awk "$dc_changed_awk" "$dc_cn" "$dc_cf" "$dc_cx" "$@"
	done
	set +f
	return 0
}

dc_changed() {
	case $1 in
	podman) dc_cu=$dc_up_podman ;;
	*) dc_cu=$dc_up_docker ;;
	esac
	dc_run "changed.$1" dc_changed_each "$@"
}
