#!/usr/bin/env python3
"""Writes a synthetic but valid catalog in encore's JSON Lines import format.

    scripts/gen-catalog.py RECORDINGS OUT.jsonl [COPY_DIR]

With COPY_DIR, it also writes the same rows as CSV files shaped like encore's tables, for the
benchmark's peer (PostgreSQL COPY with no validation).

For N recordings: N/10 parties (people and organisations), N/4 works with two writers and a
publisher, and N recordings with a main artist, a linked work and master splits. Identifiers
are well-formed (ISRC shape, ISWC check digits) and deterministic, so runs are comparable.
"""
import json
import sys


def iswc(n):
    digits = f"{n:09d}"
    total = 1 + sum((i + 1) * int(d) for i, d in enumerate(digits))
    return f"T{digits}{(10 - total % 10) % 10}"


def isrc(n):
    registrant = "E" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(n // 100000) // 10 % 26] + str((n // 100000) % 10)
    return f"QZ{registrant}26{n % 100000:05d}"


def main():
    n = int(sys.argv[1])
    out = open(sys.argv[2], "w")
    parties = max(n // 10, 20)
    works = max(n // 4, 1)
    w = out.write
    copy = None
    if len(sys.argv) > 3:
        import csv, os
        os.makedirs(sys.argv[3], exist_ok=True)
        names = ["parties", "works", "work_writers", "work_splits", "recordings", "recording_artists",
                 "recording_works", "recording_splits"]
        files = {k: open(os.path.join(sys.argv[3], k + ".csv"), "w", newline="") for k in names}
        copy = {k: csv.writer(f) for k, f in files.items()}
    for p in range(parties):
        org = p % 10 == 0
        row = {"type": "party", "ref": f"p{p}", "name": f"{'Label' if org else 'Artist'} {p}",
               "kind": "organisation" if org else "person"}
        if p % 3 == 0:
            row["ipi"] = f"{100000000 + p:011d}"
        w(json.dumps(row) + "\n")
        if copy:
            copy["parties"].writerow([f"par_{p}", f"p{p}", row["name"], row["name"].lower(), row["kind"],
                                      row.get("ipi", ""), "", "", 0, 0])
    for k in range(works):
        a, b = f"p{(k * 7 + 1) % parties}", f"p{(k * 13 + 2) % parties}"
        if a == b:
            b = f"p{(k * 13 + 3) % parties}"
        pub = f"p{(k % (parties // 10)) * 10}"
        if pub in (a, b):
            pub = f"p{((k + 1) % (parties // 10)) * 10}"
        if pub in (a, b):
            pub = f"p{((k + 2) % (parties // 10)) * 10}"
        w(json.dumps({"type": "work", "ref": f"w{k}", "iswc": iswc(k + 1), "title": f"Song Number {k}",
                      "writers": [a, b],
                      "splits": [{"party": a, "share_ppm": 250000}, {"party": b, "share_ppm": 250000},
                                 {"party": pub, "share_ppm": 500000}]}) + "\n")
        if copy:
            copy["works"].writerow([f"wrk_{k}", f"w{k}", iswc(k + 1), f"Song Number {k}", f"song number {k}", "", 0, 0])
            for i, pid in enumerate([a, b]):
                copy["work_writers"].writerow([f"wrk_{k}", "par_" + pid[1:], i])
            for i, (pid, ppm) in enumerate([(a, 250000), (b, 250000), (pub, 500000)]):
                copy["work_splits"].writerow([f"wrk_{k}", "par_" + pid[1:], ppm, i])
    for r in range(n):
        artist = f"p{(r * 11 + 1) % parties}"
        if artist.endswith("0") and int(artist[1:]) % 10 == 0:
            artist = f"p{(r * 11 + 2) % parties}"
        label = f"p{(r % (parties // 10)) * 10}"
        w(json.dumps({"type": "recording", "ref": f"r{r}", "isrc": isrc(r), "title": f"Track {r}",
                      "duration_ms": 180000 + r % 60000, "artists": [artist], "works": [f"w{r % works}"],
                      "splits": [{"party": label, "share_ppm": 800000}, {"party": artist, "share_ppm": 200000}]}) + "\n")
        if copy:
            copy["recordings"].writerow([f"rec_{r}", f"r{r}", isrc(r), f"Track {r}", f"track {r}", 180000 + r % 60000, "", 0, 0])
            copy["recording_artists"].writerow([f"rec_{r}", "par_" + artist[1:], 0])
            copy["recording_works"].writerow([f"rec_{r}", f"wrk_{r % works}", 0])
            copy["recording_splits"].writerow([f"rec_{r}", "par_" + label[1:], 800000, 0])
            copy["recording_splits"].writerow([f"rec_{r}", "par_" + artist[1:], 200000, 1])
    out.close()
    if copy:
        for f in files.values():
            f.close()


if __name__ == "__main__":
    main()
