"""The owner's guide (image/README.md) against what it describes: the Raspberry Pi header, the
appliance's default pins, its wiring picture, the line the appliance logs when it serves, and
the files a release carries."""

from __future__ import annotations

import re
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from hardware import DEFAULT_DHT_PIN, DEFAULT_LED_PIN
from tests.support import ready_line_pattern

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "image"
GUIDE = IMAGE / "README.md"
SVG = IMAGE / "wiring.svg"
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"

#: The 40-pin header of every Raspberry Pi since the B+ (Pi 3, 4, 5, Zero 2 W alike):
#: physical pin -> what it carries, GPIOs by their BCM number.
HEADER: dict[int, str] = {
    1: "3.3 V", 2: "5 V", 3: "GPIO2", 4: "5 V", 5: "GPIO3", 6: "GND", 7: "GPIO4", 8: "GPIO14",
    9: "GND", 10: "GPIO15", 11: "GPIO17", 12: "GPIO18", 13: "GPIO27", 14: "GND", 15: "GPIO22",
    16: "GPIO23", 17: "3.3 V", 18: "GPIO24", 19: "GPIO10", 20: "GND", 21: "GPIO9", 22: "GPIO25",
    23: "GPIO11", 24: "GPIO8", 25: "GND", 26: "GPIO7", 27: "GPIO0", 28: "GPIO1", 29: "GPIO5",
    30: "GND", 31: "GPIO6", 32: "GPIO12", 33: "GPIO13", 34: "GND", 35: "GPIO19", 36: "GPIO16",
    37: "GPIO26", 38: "GPIO20", 39: "GND", 40: "GPIO21",
}  # fmt: skip
PHYSICAL = {name: pin for pin, name in HEADER.items() if name.startswith("GPIO")}


def section(title: str) -> str:
    text = GUIDE.read_text()
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def wiring_rows() -> list[list[str]]:
    """The wiring table's rows, cells stripped, header and rule left out."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section("Wire the LED and the sensor").splitlines()
        if line.startswith("|")
    ]
    return rows[2:]


def test_the_boards_come_first():
    intro = GUIDE.read_text().split("\n## ", 1)[0]
    assert "Raspberry Pi 3, 4, 400, 5 and Zero 2 W" in intro
    assert "64-bit" in intro


def test_the_wiring_picture_is_svg_and_the_guide_shows_it():
    root = ET.parse(SVG).getroot()  # raises on XML that is not well-formed
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title") is not None  # for screen readers
    assert re.search(r"!\[[^\]]+\]\(wiring\.svg\)", section("Wire the LED and the sensor"))


def test_every_pin_the_guide_names_is_what_the_header_has_there():
    rows = wiring_rows()
    assert len(rows) >= 6
    checked = 0
    for row in rows:
        pins = [int(n) for n in re.findall(r"pin (\d+)", row[2])]
        names = [n.strip() for n in row[3].split(" to ")] if row[3] else []
        if not pins:
            assert row[2] == "not connected" and not names, row
            continue
        assert len(pins) == len(names), row
        for pin, name in zip(pins, names, strict=True):
            assert HEADER[pin] == name, f"pin {pin} is {HEADER[pin]}, the guide says {name}: {row}"
            checked += 1
    # "GPIO12 (pin 32)" and the like in the prose.
    for gpio, pin in re.findall(r"GPIO(\d+) \(pin (\d+)\)", GUIDE.read_text()):
        assert HEADER[int(pin)] == f"GPIO{gpio}", f"GPIO{gpio} is not pin {pin}"
        checked += 1
    grounds = re.search(r"Any GND pin works \(([\d, ]+)\)", GUIDE.read_text())
    assert grounds, "the guide lists the GND pins"
    assert {int(n) for n in grounds[1].split(",")} == {p for p, n in HEADER.items() if n == "GND"}
    assert checked >= 10


def test_the_guide_wires_the_appliance_s_default_pins():
    rows = {row[0] + " " + row[1]: row for row in wiring_rows()}
    anode = next(r for k, r in rows.items() if k.startswith("LED") and "anode" in k)
    data = next(r for k, r in rows.items() if k.startswith("DHT22") and "DATA" in k)
    vcc = next(r for k, r in rows.items() if k.startswith("DHT22") and "VCC" in k)
    assert anode[2:] == [f"pin {PHYSICAL[f'GPIO{DEFAULT_LED_PIN}']}", f"GPIO{DEFAULT_LED_PIN}"]
    assert data[2:] == [f"pin {PHYSICAL[f'GPIO{DEFAULT_DHT_PIN}']}", f"GPIO{DEFAULT_DHT_PIN}"]
    assert vcc[3] == "3.3 V"  # never 5 V: the data line would follow
    # The image's config uses the same pins as the code's defaults.
    config = tomllib.loads((IMAGE / "common" / "files" / "appliance.toml").read_text())
    assert config["lamp"]["pin"] == DEFAULT_LED_PIN
    assert config["sensor"]["pin"] == DEFAULT_DHT_PIN


def test_the_picture_labels_the_header_as_it_is():
    labels = re.findall(r"pin (\d+) · ([^<]+)<", SVG.read_text())
    assert len(labels) == 14, labels
    for pin, name in labels:
        assert HEADER[int(pin)] == name, f"the picture calls pin {pin} {name}"
    text = SVG.read_text()
    assert f"[lamp] pin = {DEFAULT_LED_PIN}" in text and f"[sensor] pin = {DEFAULT_DHT_PIN}" in text


def test_the_ready_line_the_guide_quotes_is_the_one_the_appliance_logs():
    quoted = [
        line
        for line in section("The first boot and how to tell it is ready").splitlines()
        if ready_line_pattern().fullmatch(line)
    ]
    assert quoted, "the guide quotes no line of the form Appliance._started logs"


def test_a_release_carries_the_files_the_guide_names(tmp_path: Path):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "image_2025-01-01-webthing-appliance-appliance.img.xz").write_bytes(b"an image")
    (deploy / "image_2025-01-01-webthing-appliance-appliance.info").write_text("pi-gen's notes")
    out = tmp_path / "release"
    script = IMAGE / "scripts" / "release-files.sh"
    subprocess.run(
        [str(script), "--tag", f"v{version}", "--deploy", str(deploy), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    image = f"webthing-appliance-{version}-arm64.img.xz"
    assert sorted(p.name for p in out.iterdir()) == [image, f"{image}.sha256"]
    # What the guide tells a downloader to run, in the download folder.
    check = subprocess.run(
        ["sha256sum", "-c", f"{image}.sha256"], cwd=out, capture_output=True, text=True
    )
    assert check.returncode == 0 and check.stdout == f"{image}: OK\n"
    guide = section("Get the image")
    for name in (image, f"{image}.sha256"):
        assert name.replace(version, "X.Y.Z") in guide
    # A tag that is not the project's version builds nothing to release.
    wrong = subprocess.run(
        [str(script), "--tag", "v0.0.0-not", "--deploy", str(deploy), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert wrong.returncode != 0 and "does not name this version" in wrong.stderr


def test_the_release_workflow_builds_and_attaches_them():
    workflow = WORKFLOW.read_text()
    assert re.search(r"^on:\n  push:\n    tags: \[\"v\*\"\]", workflow, re.M)
    assert "run: make image\n" in workflow
    assert 'image/scripts/release-files.sh --tag "$GITHUB_REF_NAME"' in workflow
    assert "release/*.img.xz\n" in workflow and "release/*.img.xz.sha256\n" in workflow
    assert "fail_on_unmatched_files: true" in workflow
