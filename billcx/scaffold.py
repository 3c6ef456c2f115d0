"""``billcx init``: a working project folder with every setting, the policy and the templates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from billcx.atomic import write_text
from billcx.errors import UsageError
from billcx.plan import default_policy_text
from billcx.project import CONFIG_NAME, PlanFiles, ProjectConfig, TemplateFiles, default_config_text
from billcx.render import init_templates
from billcx.sample import SampleSettings, generate, write_exports

CRON_EXAMPLE = """\
# Every day at 06:00 (server time): plan and render today's messages, keep the run folder.
# Exit codes: 0 ok, 1 data problem (see the run's .failed folder), 2 configuration, 3 bug.
0 6 * * * cd {root} && billcx --quiet --log-json run --config {config} >> runs/cron.log 2>&1
"""


@dataclass(frozen=True)
class ScaffoldResult:
    """What ``init`` wrote."""

    root: Path
    files: tuple[Path, ...]


def init_project(folder: str | Path, *, sample_customers: int = 200, seed: int = 7,
                 force: bool = False) -> ScaffoldResult:
    """Write ``billcx.toml``, ``policy.toml``, ``templates/``, sample ``exports/`` and a cron example.

    Args:
        folder: the project folder (created when missing).
        sample_customers: customers in the generated example exports (0 for none).
        seed: seed of the example exports.
        force: overwrite an existing ``billcx.toml``.

    Raises:
        UsageError: the folder already holds a ``billcx.toml`` and ``force`` is false.
    """
    root = Path(folder)
    config_path = root / CONFIG_NAME
    if config_path.exists() and not force:
        raise UsageError(f"{config_path} already exists", hint="use --force to overwrite it")
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    config = replace(ProjectConfig(), plan=PlanFiles(policy="policy.toml"),
                     templates=TemplateFiles(path="templates"))
    write_text(config_path, default_config_text(config))
    written.append(config_path)
    write_text(root / "policy.toml", default_policy_text())
    written.append(root / "policy.toml")
    written.extend(init_templates(root / "templates", force=force))
    if sample_customers > 0:
        data = generate(SampleSettings(customers=sample_customers, seed=seed))
        written.extend(write_exports(data, root / "exports"))
    cron = root / "cron.example"
    write_text(cron, CRON_EXAMPLE.format(root=root.resolve(), config=CONFIG_NAME))
    written.append(cron)
    return ScaffoldResult(root=root, files=tuple(written))
