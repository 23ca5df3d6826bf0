"""`python -m flows.prefect_cli ARGS`: Prefect's own command line with `ganflow run`'s calm terminal.

`ganflow retry` passes through to `prefect flow-run retry`, which runs a local flow again in its own
process; through this module its log lines share one console with the progress bars and Prefect's own
chatter (the temporary server's notices) is hidden, as in `ganflow run`.
"""


def main() -> None:
    from prefect.cli import app

    from tasks.progress import quiet_prefect_chatter, share_console_with_prefect_logs

    share_console_with_prefect_logs()
    quiet_prefect_chatter()
    app()  # reads sys.argv[1:]: the ARGS given to this module


if __name__ == "__main__":
    main()
