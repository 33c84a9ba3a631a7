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
    charts: int = 0  # Altair charts the page draws on a populated store
    drawings: int = 0  # Graphviz drawings (the explorer's cell)

    @property
    def path(self) -> Path:
        return VIEWS / self.file

    @property
    def ready_script(self) -> str:
        """JavaScript that is true once the page's script finished and its charts are drawn
        (for browser tests and benches)."""
        vega = '[data-testid="stVegaLiteChart"]'
        return (
            "const q = (s) => document.querySelectorAll(s).length;"
            " return q('h1') > 0 && q('[data-testid=\"stStatusWidget\"]') === 0"
            f" && q('{vega} canvas, {vega} svg') >= {self.charts}"
            f" && q('[data-testid=\"stGraphVizChart\"] svg') >= {self.drawings};"
        )

    @property
    def url_path(self) -> str:
        """Where Streamlit serves the page ("" for the default page)."""
        return "" if self is PAGES[0] else Path(self.file).stem


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview.py", "Overview", ":material/dashboard:", charts=1),
    PageSpec("explorer.py", "Explorer", ":material/travel_explore:", drawings=1),
    PageSpec("correlations.py", "Correlations", ":material/scatter_plot:", charts=1),
    PageSpec("search.py", "Search", ":material/manage_search:", charts=1),
    PageSpec("penalties.py", "Penalties", ":material/tune:", charts=2),
)
