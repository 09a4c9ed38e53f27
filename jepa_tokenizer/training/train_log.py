"""Training logs: the recipes' step-interval lines, and reading SpeechBrain
``train_log.txt`` files (their curves: ``jepa_tokenizer.evaluation.plots``).

Authors
 * jepa-tokenizer team 2026
"""

import re
from pathlib import Path
from typing import Dict, List, Optional

__all__ = ["log_recent_steps", "parse_train_line", "parse_train_log"]

_FIELD = re.compile(r"([A-Za-z_][\w ]*?):\s*([-+0-9.eE]+|nan|inf)")


def log_recent_steps(brain, series: Dict[str, List[float]], meta: Optional[dict] = None, extra=None) -> None:
    """Every ``log_interval_steps`` optimizer steps, logs the mean of the last
    interval's values of each series. Call it on every rank: SpeechBrain's
    logger broadcasts from the main process."""
    interval = brain.hparams.log_interval_steps
    if not interval or brain.optimizer_step % interval:
        return
    recent = {k: sum(v[-interval:]) / len(v[-interval:]) for k, v in series.items() if v}
    brain.hparams.train_logger.log_stats(
        stats_meta={"step": brain.optimizer_step, **(meta or {})},
        train_stats={**(extra or {}), **recent},
    )


def parse_train_line(line: str) -> Dict[str, float]:
    """The numeric fields of one ``train_log.txt`` line (empty when it has none).

    Example
    -------
    >>> parse_train_line("epoch: 1, step: 10 - train loss: 6.25e-01")
    {'epoch': 1.0, 'step': 10.0, 'train loss': 0.625}
    """
    fields = {}
    for part in line.replace(" - ", ", ").split(", "):
        match = _FIELD.fullmatch(part.strip())
        if match:
            fields[match.group(1).strip()] = float(match.group(2))
    return fields


def parse_train_log(path: str) -> List[Dict[str, float]]:
    """One dict per logged line: ``"epoch"``, ``"step"``, ``"train loss"``, ...

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "log.txt")
    >>> _ = open(path, "w").write("epoch: 1, step: 10 - train loss: 6.25e-01 - valid loss: 2.68e-01\\n")
    >>> parse_train_log(path)
    [{'epoch': 1.0, 'step': 10.0, 'train loss': 0.625, 'valid loss': 0.268}]
    """
    rows = (parse_train_line(line) for line in Path(path).read_text().splitlines())
    return [fields for fields in rows if fields]
