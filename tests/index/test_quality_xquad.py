"""Answer-quality floors on XQuAD English: a change that makes answers worse turns this red.

The floors sit a little below what the engine measured when they were set (with every 5th
article held out of the index: recall@1 0.927, recall@5 0.994, quote@1 0.852, 85.6% of
held-out questions abstained, 2.6% of answerable ones wrongly). Speed is measured by
`citebot eval`, never asserted here.
"""

from typing import Any

import pytest

from index.evaluate import evaluate
from tests.conftest import XQUAD

FLOORS = {"recall@1": 0.91, "recall@5": 0.985, "quote@1": 0.83, "abstained_unanswerable": 0.80}
CEILINGS = {"abstained_answerable": 0.04}


@pytest.mark.slow
@pytest.mark.skipif(not XQUAD.exists(), reason="XQuAD is not beside the checkout")
def test_xquad_quality_floors(minilm: Any) -> None:
    figures = evaluate(XQUAD, minilm, holdout=5)
    print(figures)
    assert figures["questions"] == 1190
    for key, floor in FLOORS.items():
        assert figures[key] >= floor, (key, figures)
    for key, ceiling in CEILINGS.items():
        assert figures[key] <= ceiling, (key, figures)
