"""Build ccdg/phi_data/first_names_more.txt and surnames_more.txt from Faker's bundled data.

Run offline, once, when the lists should change: `python bench/build_phi_name_lists.py`.
Faker comes with the development dependencies (factory_boy); the guard reads only the text
files this writes. Names that are common English words (Faker's own English word list and the
guard's not-a-name words) are left out, so that "Hope", "Will" or "Grace" never make a full
name with the next word.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ccdg.phi import _NOT_NAMES, _fold  # noqa: E402

# Latin-script locales whose clinicians' patients the program is likely to meet.
LOCALES = (
    "en_US en_GB en_IE en_NG en_KE en_IN en_PK es_MX es_ES es_CO es_AR pt_BR pt_PT fr_FR "
    "fr_QC de_DE it_IT pl_PL cs_CZ sk_SK hr_HR ro_RO hu_HU lt_LT vi_VN yo_NG ig_NG ha_NG "
    "tw_GH zu_ZA sw tr_TR id_ID nl_NL sv_SE fi_FI ga_IE"
).split()


def _collect(provider: object, attrs: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for attr in attrs:
        value = getattr(provider, attr, None)
        if not value:
            continue
        for name in value:
            for part in re.split(r"[\s-]+", name):
                folded = _fold(part)
                if len(folded) >= 3 and re.fullmatch(r"[a-z]+", folded):
                    names.add(folded)
    return names


def main() -> None:
    from faker.providers.lorem.en_US import Provider as English

    words = {w.lower() for w in English.word_list} | set(_NOT_NAMES)
    first: set[str] = set()
    last: set[str] = set()
    for locale in LOCALES:
        try:
            module = importlib.import_module(f"faker.providers.person.{locale}")
        except ImportError:
            continue
        provider = module.Provider
        first |= _collect(provider, ("first_names", "first_names_female", "first_names_male"))
        last |= _collect(provider, ("last_names",))
    header = (
        "# Built by bench/build_phi_name_lists.py from Faker's bundled name lists; do not edit.\n"
        "# Lower case, accents removed; common English words left out.\n"
    )
    lists = (("first_names_more.txt", first - words), ("surnames_more.txt", last - words))
    for name, values in lists:
        lines = [" ".join(sorted(values)[i : i + 12]) for i in range(0, len(values), 12)]
        (ROOT / "ccdg" / "phi_data" / name).write_text(header + "\n".join(lines) + "\n")
        print(name, len(values))


if __name__ == "__main__":
    main()
