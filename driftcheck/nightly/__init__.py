"""Nightly mode: history, deltas since the previous run, waivers, locking and run folders.

The order a scan uses them in (the CLI wires it):

    with report_dir_lock(report_dir):
        report = apply_waivers(report, load_waivers(path), today)   # waived / expired waivers
        history = History(report_dir / "history.sqlite")
        report = annotate(report, history)                          # first/last seen, new, changes
        write_run(report_dir, report, files)                        # runs/<id>/, then `latest`
        history.record(report)                                      # one transaction
        prune_runs(report_dir, keep)
"""
