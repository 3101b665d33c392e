"""What kind of file a photo is: an image Pillow reads, a camera RAW file, or a video; by its
extension, and by its content where the two disagree (a RAW-named file that is a JPEG is read as
the JPEG it is).

- **RAW**: the formats LibRaw reads (through rawpy), from Canon's CR2/CR3/CRW to Sigma's X3F.
  GeoGuess predicts from the large JPEG preview most of them carry (the camera's own rendering,
  the kind of image LocationNet was trained on), else from a half-size demosaic, and writes their
  position into an XMP sidecar (or, for DNG on request, into the file).
- **Video**: what PyAV (FFmpeg) opens; the common camera and phone containers are listed for
  folders. Predicted from several frames spread through the clip; their GPS is written into the
  file (QuickTime Keys and UserData) or a sidecar.
"""

from __future__ import annotations

from pathlib import Path

RAW_EXTENSIONS = frozenset(
    ".3fr .ari .arw .bay .cr2 .cr3 .crw .dcr .dng .erf .fff .iiq .k25 .kdc .mdc .mef .mos .mrw .nef .nrw "
    ".orf .pef .raf .raw .rw2 .rwl .sr2 .srf .srw .x3f".split()
)
VIDEO_EXTENSIONS = frozenset(".mov .mp4 .m4v .3gp .3g2 .avi .mts .m2ts .mkv .webm .mpg .mpeg".split())
#: Video containers ExifTool writes GPS into (QuickTime-based); others get a sidecar.
WRITABLE_VIDEO = frozenset(".mov .mp4 .m4v .3gp .3g2".split())
#: RAW formats ExifTool writes (its documentation's table of formats), written in-file when asked
#: (``--raw-in-file``); a DNG is a TIFF by Adobe's published specification.
WRITABLE_RAW = frozenset(
    ".3fr .arw .cr2 .cr3 .crw .dng .erf .iiq .mef .mos .mrw .nef .nrw .orf .pef .raf .rw2 .rwl .sr2 .srw .x3f".split()
)

PHOTO = "photo"
RAW = "raw"
VIDEO = "video"

_JPEG = b"\xff\xd8\xff"


def kind_of(path: str | Path, head: bytes | None = None) -> str:
    """``photo``, ``raw`` or ``video``, by extension; a RAW- or video-named file whose first bytes
    (``head``, read when not given) are a JPEG's is a photo."""
    suffix = Path(path).suffix.lower()
    if suffix not in RAW_EXTENSIONS and suffix not in VIDEO_EXTENSIONS:
        return PHOTO
    if head is None:
        try:
            with open(path, "rb") as f:
                head = f.read(16)
        except OSError:
            head = b""
    if head.startswith(_JPEG):
        return PHOTO
    return RAW if suffix in RAW_EXTENSIONS else VIDEO


def is_raw_name(path: str | Path) -> bool:
    return Path(path).suffix.lower() in RAW_EXTENSIONS


def is_video_name(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS
