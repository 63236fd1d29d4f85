"""Build ccdg/phi_data/first_names_more.txt and surnames_more.txt from bundled name data.

Run offline, once, when the lists should change: `python bench/build_phi_name_lists.py`.
The sources come with the development dependencies; the guard reads only the text files this
writes:
- Faker's name lists for the locales below;
- the US Census Bureau's 1990 surname and given-name lists (88,799 surnames), as the `names`
  package ships them;
- gender-guesser's dictionary of given names from many countries (about 33,000 in Latin letters).
Names that are common English words (Faker's own English word list and the guard's not-a-name
words) are left out, so that "Hope", "Will" or "Grace" never make a full name with the next
word; from the two bigger sources, every word of Webster's list (as the guard reads it) is left
out too, so that "banks" or "young" stay words.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ccdg.phi import _NOT_NAMES, _fold, _is_english  # noqa: E402

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


def _census_and_world() -> tuple[set[str], set[str]]:
    """Given names and surnames from the census lists and gender-guesser, English words out."""
    import gender_guesser
    import names

    def plain(word: str) -> str | None:
        folded = _fold(word)
        if len(folded) >= 3 and re.fullmatch(r"[a-z]+", folded) and not _is_english(folded):
            return folded
        return None

    base = Path(names.__file__).parent
    last = {plain(line.split()[0]) for line in (base / "dist.all.last").read_text().splitlines()}
    first: set[str | None] = set()
    for source in ("dist.female.first", "dist.male.first"):
        first |= {plain(line.split()[0]) for line in (base / source).read_text().splitlines()}
    dictionary = Path(gender_guesser.__file__).parent / "data" / "nam_dict.txt"
    for line in dictionary.read_text(encoding="iso-8859-1").splitlines():
        if line.startswith("#") or len(line) < 30:
            continue
        name = line[3:29].strip()
        if name and " " not in name and "+" not in name:
            first.add(plain(name))
    return {n for n in first if n}, {n for n in last if n}


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
    more_first, more_last = _census_and_world()
    header = (
        "# Built by bench/build_phi_name_lists.py from Faker's bundled name lists; do not edit.\n"
        "# Lower case, accents removed; common English words left out.\n"
    )
    first -= words
    last -= words
    census_header = (
        "# Built by bench/build_phi_name_lists.py from the US Census lists and gender-guesser;\n"
        "# do not edit. Lower case, accents removed; words of Webster's list left out, and the\n"
        "# names already in the *_more.txt lists.\n"
    )
    lists = (
        ("first_names_more.txt", first, header),
        ("surnames_more.txt", last, header),
        ("first_names_world.txt", more_first - first, census_header),
        ("surnames_census.txt", more_last - last, census_header),
    )
    for name, values, head in lists:
        lines = [" ".join(sorted(values)[i : i + 12]) for i in range(0, len(values), 12)]
        (ROOT / "ccdg" / "phi_data" / name).write_text(head + "\n".join(lines) + "\n")
        print(name, len(values))


if __name__ == "__main__":
    main()
