"""Every popup of the package goes through _napari/notify.py, which shows names holding < > & as written: napari's own
show_info read them as markup ("run<b>7" shown as a bold "run7"), and modules importing it directly slipped past
each fix of a dock's popups."""

import re
from pathlib import Path

import napari_particle_detect

PACKAGE = Path(napari_particle_detect.__file__).parent
DIRECT = re.compile(r"from napari\.utils\.notifications import[^\n]*\bshow_|notifications\.show_(info|warning|error)\(")


def test_no_module_but_notify_shows_a_napari_popup_itself():
    direct = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                    if path.name != "notify.py" and DIRECT.search(path.read_text(encoding="utf-8")))
    assert direct == []
