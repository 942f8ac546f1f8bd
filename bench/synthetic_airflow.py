"""The ``apache-airflow[all]`` shape of a synthetic graph: one hub asked for with ``[all]``.

Airflow's ``all`` extra names the hub's own provider extras (``apache-airflow[amazon]; extra ==
"all"``, …), each of which pulls a handful of projects, some with extras of their own; so one
root requirement fans out through some sixty extras to the whole graph. On top of the wiring of
:mod:`bench.synthetic_plan` (which keeps every compatible release admitted, so a solution
exists), a few *deep conflicts*: pairs of projects whose releases newer than their compatible
one disagree about a shared dependency (one caps it at its compatible release, the other needs
a newer one), found only once both are decided far down the graph.
"""

from __future__ import annotations

import random

from bench.synthetic_plan import Plan, _add_dependency, _root_count

__all__ = ["airflow_roots"]

_PROVIDERS = (
    "amazon", "apache-beam", "apache-cassandra", "apache-hdfs", "apache-hive", "apache-kafka",
    "apache-spark", "asana", "atlassian-jira", "celery", "cloudant", "cncf-kubernetes", "cohere",
    "common-sql", "databricks", "datadog", "dbt-cloud", "docker", "elasticsearch", "exasol",
    "fab", "facebook", "ftp", "github", "google", "grpc", "hashicorp", "http", "imap", "influxdb",
    "jdbc", "jenkins", "microsoft-azure", "microsoft-mssql", "mongo", "mysql", "neo4j", "odbc",
    "openai", "openlineage", "opensearch", "oracle", "pagerduty", "papermill", "pinecone",
    "postgres", "presto", "redis", "salesforce", "samba", "segment", "sendgrid", "sftp",
    "slack", "smtp", "snowflake", "sqlite", "ssh", "tableau", "trino", "weaviate", "yandex",
)  # fmt: skip
_DEEP_CONFLICTS = 4


def airflow_roots(rng: random.Random, plans: list[Plan], core: int) -> list[str]:
    """Rewire wired ``plans`` so that the last core project is the hub whose ``[all]`` reaches
    the rest; the root requirement lines (the hub with ``[all]``)."""
    hub_rank = core - 1
    hub = plans[hub_rank]
    # The other would-be roots are what the hub always needs (Airflow's own dependencies).
    for rank in range(core - _root_count(core), hub_rank):
        _add_dependency(rng, hub, rank, plans[rank].name, since=0)
    for provider in _PROVIDERS:
        for rank in rng.sample(range(hub_rank), rng.randrange(2, 9)):
            head = plans[rank].name
            wanted = [e for e in plans[rank].extras if e not in ("test", "docs", "dev")]
            if wanted and rng.random() < 0.25:
                head += f"[{rng.choice(wanted)}]"
            _add_dependency(rng, hub, rank, head, f'extra == "{provider}"')
        # Airflow spells ``all`` as the hub's own extras, with no version: the hub's release.
        hub.fixed.append((0, f'{hub.name}[{provider}]; extra == "all"'))
    hub.extras = sorted({*hub.extras, *_PROVIDERS, "all"})
    _deep_conflicts(rng, plans, hub_rank)
    return [f"{hub.name}[all]"]


def _deep_conflicts(rng: random.Random, plans: list[Plan], below: int) -> None:
    """Pairs whose newer releases disagree on a shared, popular dependency."""
    shared = [r for r in range(below // 4) if plans[r].above_compatible]
    for rank in rng.sample(shared, min(_DEEP_CONFLICTS, len(shared))):
        dep = plans[rank]
        star = dep.parsed[dep.compatible]
        pair = [
            r for r in range(rank + 1, below) if plans[r].compatible < len(plans[r].versions) - 1
        ]
        for other, spec in zip(rng.sample(pair, 2), (f"<={star}", f">{star}"), strict=True):
            plan = plans[other]
            plan.fixed.append((plan.compatible + 1, f"{dep.name}{spec}"))
