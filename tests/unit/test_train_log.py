"""Training-log parsing and curve plots."""

from jepa_tokenizer.evaluation.plots import plot_curves
from jepa_tokenizer.training.train_log import parse_train_log

LINES = [
    "epoch: 1, step: 10, lr: 1.50e-04 - train loss: 6.25e-01, train pred_std: 2.81e-01 - valid loss: 2.68e-01",
    "epoch: 2, step: 20, lr: 1.50e-04 - train loss: 2.43e-01, train pred_std: 2.23e-01 - valid loss: 1.68e-01",
]


def test_parse_and_plot(tmp_path):
    log = tmp_path / "train_log.txt"
    log.write_text("\n".join(LINES) + "\n")
    rows = parse_train_log(str(log))
    assert [r["step"] for r in rows] == [10, 20]
    assert rows[1]["valid loss"] == 0.168 and rows[0]["train pred_std"] == 0.281
    png = plot_curves([str(log)], ["run"], ["train loss", "valid loss"], str(tmp_path / "c.png"))
    data = open(png, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
