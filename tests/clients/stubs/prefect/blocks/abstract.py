import logging

import pydantic


class Block(pydantic.BaseModel):
    @property
    def logger(self):
        return logging.getLogger("prefect.block")


class CredentialsBlock(Block):
    pass


class JobBlock(Block):
    pass


class JobRun:
    @property
    def logger(self):
        return logging.getLogger("prefect.jobrun")
