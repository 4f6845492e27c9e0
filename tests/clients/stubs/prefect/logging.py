import logging


def get_run_logger():
    return logging.getLogger("prefect")
