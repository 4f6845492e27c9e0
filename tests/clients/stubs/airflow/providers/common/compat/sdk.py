"""Stand-ins for BaseOperator, BaseSensorOperator and BaseOperatorLink: a sensor's execute() pokes
every poke_interval seconds until poke() is true or timeout passes, as Airflow's does."""
import logging
import time


class BaseOperator:
    def __init__(self, task_id="task", **kwargs):
        self.task_id = task_id
        self.log = logging.getLogger(task_id)


class BaseSensorOperator(BaseOperator):
    def __init__(self, poke_interval=60.0, timeout=600.0, **kwargs):
        super().__init__(**kwargs)
        self.poke_interval = poke_interval
        self.timeout = timeout

    def execute(self, context):
        started = time.monotonic()
        while not self.poke(context):
            if time.monotonic() - started > self.timeout:
                raise TimeoutError(f"sensor {self.task_id} timed out")
            time.sleep(self.poke_interval)

    def defer(self, trigger, method_name, **kwargs):
        raise NotImplementedError("deferral needs the triggerer; run the trigger directly instead")


class BaseOperatorLink:
    pass
