"""Disk fact parsers against real df output (GNU, busybox, RHEL family, Ubuntu)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.facts.disk import DiskUsage, parse_df
from runbook.facts.mounts import parse_mounts, unescape_octal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "facts"


def read(rel: str | None) -> str | None:
    if rel is None:
        return None
    with open(FIXTURES / rel, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


DATA_VOLUME = "/mnt/rb fixture/data volume"
LONG_DEVICE = "/dev/mapper/rbfixture--vg-lv_application_data_volume"

# (id, df -k file, df -i file, mount table file, expected mounts, {mount: (device, fstype,
#  size KiB, used KiB, free KiB, inodes used %)})
CASES = [
    ("debian12-gnu", "disk/debian12-gnu.txt", "disk/debian12-gnu.inodes.txt",
     "disk/debian12-gnu.mounts.txt", ["/", DATA_VOLUME],
     {DATA_VOLUME: (LONG_DEVICE, "ext4", 59621, 49196, 5839, 73.88),
      "/": ("/dev/vda", "ext4", 264212084, 24284988, 82105924, 2.56)}),
    ("debian12-gnu-T", "disk/debian12-gnu-T.txt", None, None, ["/", DATA_VOLUME],
     {DATA_VOLUME: (LONG_DEVICE, "ext4", 59621, 49196, 5839, None)}),
    ("debian12-busybox", "disk/debian12-busybox.txt", "disk/debian12-busybox.inodes.txt",
     "disk/debian12-gnu.mounts.txt", ["/", DATA_VOLUME],
     {DATA_VOLUME: (LONG_DEVICE, "ext4", 59621, 49196, 5839, 73.88)}),
    # busybox df without -P puts a long device name on a line of its own.
    ("debian12-busybox-wrapped", "disk/debian12-busybox-wrapped.txt", None, None,
     ["/", DATA_VOLUME, "/mnt/rb fixture/tmp space"],
     {DATA_VOLUME: (LONG_DEVICE, None, 59621, 49196, 5839, None),
      "/mnt/rb fixture/tmp space": ("rb-fixture-tmpfs-with-a-very-long-source-name", None,
                                    8192, 0, 8192, None)}),
    ("busybox-riscv-nfs-wrapped", "disk/busybox-riscv-nfs-wrapped.txt", None, None, ["/mnt/nfs"],
     {"/mnt/nfs": ("192.168.1.17:/opt/riscv/src/sample", None, 247891968, 228905984, 6370304,
                   None)}),
    ("busybox-riscv-a", "disk/busybox-riscv-a.txt", None, None, ["/"],
     {"/": ("/dev/root", None, 49574, 34316, 12698, None)}),
    ("centos-7.7", "disk/centos-7.7.txt", None, "disk/centos-7.7.mounts.txt", ["/", "/boot"],
     {"/": ("/dev/mapper/centos-root", "xfs", 17811456, 1805580, 16005876, None)}),
    ("ubuntu-18.04", "disk/ubuntu-18.04.txt", None, "disk/ubuntu-18.04.mounts.txt", ["/"],
     {"/": ("/dev/sda2", "ext4", 20508240, 5748028, 13695408, None)}),
    # Without a mount table, snaps (/dev/loopN on /snap/...) and tmpfs are still recognised.
    ("ubuntu-18.04-no-table", "disk/ubuntu-18.04.txt", None, None, ["/"], {}),
    ("rhel5-T-long-device", "disk/rhel5-T.txt", None, None, ["/"],
     {"/": ("/dev/mapper/VolGroup00-LogVol00", "ext3", 6030784, 1147932, 4571556, None)}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_parse_df_fixture(case: tuple) -> None:
    _, space, inodes, mounts, expected_mounts, spot = case
    disks = parse_df(read(space), read(inodes), read(mounts))
    assert [d.mount for d in disks] == expected_mounts
    by_mount = {d.mount: d for d in disks}
    for mount, (device, fstype, size, used, free, inode_pct) in spot.items():
        d = by_mount[mount]
        assert (d.device, d.fstype) == (device, fstype)
        assert (d.size_bytes, d.used_bytes, d.free_bytes) == (size * 1024, used * 1024, free * 1024)
        assert d.used_percent == pytest.approx(used * 100 / (used + free), abs=0.01)
        assert d.inodes_used_percent == inode_pct


@pytest.mark.parametrize("space, mounts, expected", [
    ("disk/debian12-gnu.txt", "disk/debian12-gnu.mounts.txt",
     {"/dev", "/dev/shm", "/", DATA_VOLUME, "/mnt/rb fixture/tmp space", "/mnt/rb fixture/overlay"}),
    ("disk/ubuntu-18.04.txt", "disk/ubuntu-18.04.mounts.txt", None),
])
def test_include_pseudo_keeps_everything(space: str, mounts: str, expected: set[str] | None) -> None:
    text = read(space)
    disks = parse_df(text, None, read(mounts), include_pseudo=True)
    assert len(disks) == len({ln.rsplit("% ", 1)[-1] for ln in text.splitlines()[1:]})
    if expected is not None:
        assert {d.mount for d in disks} == expected


def test_pseudo_types_come_from_the_mount_table() -> None:
    disks = parse_df(read("disk/debian12-gnu.txt"), None, read("disk/debian12-gnu.mounts.txt"),
                     include_pseudo=True)
    types = {d.mount: d.fstype for d in disks}
    assert types["/mnt/rb fixture/overlay"] == "overlay"
    assert types["/mnt/rb fixture/tmp space"] == "tmpfs"


def test_overlay_root_of_a_container_is_kept() -> None:
    space = ("Filesystem     1024-blocks    Used Available Capacity Mounted on\n"
             "overlay          61255492 48612304   9501864      84% /\n"
             "tmpfs               65536        0     65536       0% /dev\n"
             "shm                 65536        0     65536       0% /dev/shm\n"
             "/dev/sda1        61255492 48612304   9501864      84% /etc/hosts\n")
    mounts = ("overlay / overlay rw,relatime,lowerdir=/var/lib/docker/overlay2/l/X 0 0\n"
              "tmpfs /dev tmpfs rw,nosuid,size=65536k,mode=755 0 0\n"
              "shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0\n"
              "/dev/sda1 /etc/hosts ext4 rw,relatime 0 0\n")
    disks = parse_df(space, None, mounts)
    assert [(d.mount, d.fstype) for d in disks] == [("/", "overlay"), ("/etc/hosts", "ext4")]


def test_mount_point_resolved_via_table_when_device_has_spaces() -> None:
    space = ("Filesystem 1024-blocks Used Available Capacity Mounted on\n"
             "my share 10 1000 600 400 60% /srv/a 10 b\n")
    mounts = "my\\040share\\04010 /srv/a\\04010\\040b fuse.sshfs rw 0 0\n"
    [disk] = parse_df(space, None, mounts)
    assert (disk.device, disk.mount, disk.fstype) == ("my share 10", "/srv/a 10 b", "fuse.sshfs")
    assert disk.size_bytes == 1000 * 1024


def test_512_byte_blocks_and_dash_values() -> None:
    space = ("Filesystem 512-blocks Used Available Capacity Mounted on\n"
             "/dev/sdb1 2000 500 1500 25% /data\n")
    inodes = ("Filesystem Inodes IUsed IFree IUse% Mounted on\n"
              "/dev/sdb1 0 0 0 - /data\n")
    [disk] = parse_df(space, inodes)
    assert disk.size_bytes == 2000 * 512
    assert disk.inodes_total is None and disk.inodes_used_percent is None


@pytest.mark.parametrize("text", ["", "hello\n", ("Filesystem Size Used Avail Use% Mounted on\n"
                                               "/dev/sda1 20G 5G 15G 25% /\n"),
                                  "Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/sda1\n"])
def test_bad_df_text_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_df(text)


@pytest.mark.parametrize("field, expected", [
    (r"/mnt/rb\040fixture", "/mnt/rb fixture"), (r"a\011b", "a\tb"), (r"a\012b", "a\nb"),
    (r"back\134slash", "back\\slash"), ("plain", "plain"),
])
def test_unescape_octal(field: str, expected: str) -> None:
    assert unescape_octal(field) == expected


def test_parse_mounts_reads_proc_mounts_and_mount_output() -> None:
    proc = parse_mounts(read("disk/debian12-gnu.mounts.txt"))
    assert proc[-3].mount == DATA_VOLUME and proc[-3].device == LONG_DEVICE
    legacy = parse_mounts(read("disk/ubuntu-18.04.mounts.txt"))
    assert ("/dev/sda2", "/", "ext4") in {(e.device, e.mount, e.fstype) for e in legacy}


def test_to_json_is_plain() -> None:
    disk = DiskUsage("/dev/sda1", "ext4", "/", 100, 50, 50, 50.0)
    assert disk.to_json()["mount"] == "/" and disk.to_json()["inodes_total"] is None


def test_a_stray_line_does_not_swallow_the_next_filesystem() -> None:
    text = ("Filesystem 1K-blocks Used Available Use% Mounted on\n"
            "junk line here\n"
            "/dev/sda1 100 50 50 50% /\n")
    assert [(d.device, d.mount) for d in parse_df(text)] == [("/dev/sda1", "/")]
