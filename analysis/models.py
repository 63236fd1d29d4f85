"""Every model of the analysis app, in one place: Django finds them here, and the migrations
and the rest of the project import them from here (``from analysis.models import ...``).

Each model lives in the feature package that owns it: analysis runs
(:mod:`analysis.runs.models`), qualitative coding (:mod:`analysis.coding.models`) and
background exports (:mod:`analysis.exports.models`).
"""

from analysis.coding.models import (
    Coding,
    CodingReviewer,
    CodingTheme,
    Consensus,
    ConsensusTheme,
    Theme,
)
from analysis.exports.models import ExportJob
from analysis.runs.models import AnalysisRun

__all__ = [
    "AnalysisRun",
    "Coding",
    "CodingReviewer",
    "CodingTheme",
    "Consensus",
    "ConsensusTheme",
    "ExportJob",
    "Theme",
]
