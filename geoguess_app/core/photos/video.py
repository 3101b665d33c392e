"""Videos, read through PyAV (FFmpeg in its wheels): the frames GeoGuess predicts from.

A clip is predicted from ``FRAMES`` frames spread evenly through it (at 10%, 30%, 50%, 70% and
90% of its length), each made into the published recipe's input; the prediction combines them
(predict/pipeline.py: the mean of their log-probabilities, normalised). A clip too short for that
many gives what it has. The frame in the middle is the one shown. The frames come out upright: the
rotation the phone recorded (the display matrix) is applied.

Reading is bounded: frames are reached by seeking, never by decoding the whole clip; at most
``MAX_DECODED`` frames are decoded in all, so a damaged or hostile file gives a reason, never a
hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..errors import ImageError

FRAMES = 5
MAX_DECODED = 400  # frames decoded in all, whatever the file says of itself
MAX_SIDE = 8192


@dataclass
class VideoFrames:
    frames: list[Image.Image]  # RGB, upright, in time order
    duration_s: float | None
    codec: str

    @property
    def source(self) -> str:
        w, h = self.frames[0].size
        length = f", {self.duration_s:.1f} s" if self.duration_s else ""
        return f"{len(self.frames)} frame{'s' if len(self.frames) != 1 else ''} of a {w}x{h} {self.codec} video{length}"


def read_video(path: str, frames: int = FRAMES) -> VideoFrames:
    """``frames`` frames spread through the clip; ImageError with a reason when none decodes."""
    try:
        import av
    except ImportError:  # pragma: no cover - a dependency; the packaged app includes it
        raise ImageError("videos need PyAV (pip install av)") from None
    try:
        container = _open(av, path)
    except av.error.InvalidDataError:
        raise ImageError("not a video FFmpeg reads (or a damaged video file)") from None
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as e:
        raise ImageError(f"cannot read this video ({_why(e)})") from None
    with container:
        streams = [s for s in container.streams if s.type == "video"]
        if not streams:
            raise ImageError("this file holds no video stream (audio only?)")
        stream = streams[0]
        stream.codec_context.thread_type = "AUTO"  # FFmpeg's own threads for the codec
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        duration = _duration(container, stream)
        taken: list[Image.Image] = []
        try:
            if duration and duration > 0:
                for share in _shares(frames):
                    frame = _frame_at(container, stream, share * duration)
                    if frame is not None:
                        taken.append(frame)
            if not taken:  # no length, or seeking failed: the first frames as they come
                taken = _first(container, stream, frames)
        except (av.error.FFmpegError, OSError, ValueError, MemoryError) as e:
            if not taken:
                raise ImageError(f"no frame of this {codec} video can be decoded ({_why(e)})") from None
        if not taken:
            raise ImageError(f"this {codec} video has no frame that can be decoded (a header without pictures?)")
    return VideoFrames(taken, duration, codec)


def _shares(n: int) -> list[float]:
    return [(2 * i + 1) / (2 * n) for i in range(n)]  # 5: 0.1, 0.3, 0.5, 0.7, 0.9


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000
    return None


def _frame_at(container: Any, stream: Any, seconds: float) -> Image.Image | None:
    """The first frame at or after ``seconds`` (seeking to the keyframe before it)."""
    base = stream.time_base
    start = stream.start_time or 0
    target = start + int(seconds / base) if base else 0
    container.seek(target, stream=stream, backward=True, any_frame=False)
    for decoded, frame in enumerate(container.decode(stream)):
        if decoded >= MAX_DECODED // FRAMES:
            return _image(frame)  # far from a keyframe: near enough
        if frame.pts is None or frame.pts >= target:
            return _image(frame)
    return None


def _first(container: Any, stream: Any, n: int) -> list[Image.Image]:
    container.seek(0)
    out: list[Image.Image] = []
    for decoded, frame in enumerate(container.decode(stream)):
        if decoded >= MAX_DECODED or len(out) >= n:
            break
        out.append(_image(frame))
    return out


def _image(frame: Any) -> Image.Image:
    if not (0 < frame.width <= MAX_SIDE and 0 < frame.height <= MAX_SIDE):
        raise ValueError(f"a frame of {frame.width}x{frame.height} pixels")
    image: Image.Image = frame.to_image()
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360  # counter-clockwise, as FFmpeg's display matrix says
    if rotation:
        image = image.rotate(rotation, expand=True)
    return image.convert("RGB")


def _why(e: BaseException) -> str:
    text = getattr(e, "strerror", None) or str(e)
    return str(text).rstrip(".").lower() or type(e).__name__


def _open(av: Any, path: str) -> Any:
    """The container, its metadata text read whatever its encoding: PyAV before 19 is told to skip
    what is not UTF-8; PyAV 19 no longer has that choice (and takes the text as it can)."""
    try:
        return av.open(path, metadata_errors="ignore")
    except TypeError:  # PyAV 19: no such argument
        return av.open(path)
