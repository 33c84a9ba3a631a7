"""The page registry: one list that the app navigates and the tests walk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VIEWS = Path(__file__).resolve().parent / "views"


@dataclass(frozen=True)
class PageSpec:
    file: str  # under views/
    title: str
    icon: str

    @property
    def path(self) -> Path:
        return VIEWS / self.file

    @property
    def url_path(self) -> str:
        """Where Streamlit serves the page ("" for the default page)."""
        return "" if self is PAGES[0] else Path(self.file).stem


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview.py", "Overview", ":material/dashboard:"),
    PageSpec("explorer.py", "Explorer", ":material/travel_explore:"),
    PageSpec("correlations.py", "Correlations", ":material/scatter_plot:"),
    PageSpec("search.py", "Search", ":material/manage_search:"),
    PageSpec("penalties.py", "Penalties", ":material/tune:"),
)
