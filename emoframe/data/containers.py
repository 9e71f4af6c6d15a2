"""Does an audio file hold as much audio as its container says? The check soundfile does not make.

libsndfile reads a WAV or AIFF whose header claims more audio than the file holds (a copy or a
download cut short) as a shorter recording, and an Ogg file cut at a page boundary as a shorter
stream, without a word. :func:`container_problem` walks the container's own structure and says
why such a file is damaged; the reader refuses it (``load_audio``) instead of using it as if whole.

What counts as damaged (``docs/data.md``, "Audio"):
- WAV (RIFF, RIFX, RF64/BW64), Wave64, AIFF/AIFC, CAF, Sun .au: the file ends before the end of its audio data, or
  inside its header; PCM data that ends mid-frame; bytes after the audio data that are neither
  chunks nor zero padding (a header that gives a shorter length than the audio written).
- Ogg: a page cut off, or a stream without its end-of-stream page.
- MP3 (MPEG audio): a last frame cut off (and, with a Xing/Info header, fewer frames than it says).
Harmless and accepted: a wrong RIFF/FORM size when the data chunk is right (some recorders never
update it), a streamed WAV whose data size is the "unknown" marker 0xFFFFFFFF (read to the end of
the file, whole frames only), metadata chunks after the audio (also when cut short: the audio is
whole), trailing zero padding or an ID3v1 tag, trailing bytes too few to hold a frame.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: WAV format tags whose data is plain frames of ``block_align`` bytes (PCM, float, A-law, µ-law, extensible)
_FRAMED_WAV = {0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE}
_UNKNOWN_SIZE = 0xFFFFFFFF
_CUT_IN_HEADER = (
    "cut short or corrupt: the file ends inside its header (a chunk before the audio runs past the end of "
    "the file), so it holds no usable audio; copy it again or re-export it"
)


def container_problem(path: str | Path) -> str | None:
    """Why the file's container shows it damaged (cut short, or more audio than its header says); None: whole."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        head = f.read(12)
        if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
            return _riff_problem(f, size, big_endian=head[:4] == b"RIFX")
        if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            return _aiff_problem(f, size)
        if head[:4] == b"OggS":
            return _ogg_problem(f, size)
        if head[:4] == b"riff" and size >= 40:
            return _w64_problem(f, size)
        if head[:4] == b"caff":
            return _caf_problem(f, size)
        if head[:4] in (b".snd", b".dns"):
            return _au_problem(head, f, size)
        if head[:3] == b"ID3" or _mpeg_frame_length(head[:4]):
            f.seek(0)
            return _mpeg_problem(f.read())
    return None


@dataclass
class _Data:
    """Where the audio data lies in the file and how long the header says it is."""

    offset: int
    claimed: int  # bytes, or -1: unknown (a streamed WAV)
    frame_bytes: int  # bytes per frame where frames are plain (PCM), else 0
    bytes_per_second: float


def _seconds(n: int, data: _Data) -> str:
    return f"{n / data.bytes_per_second:.3f} s" if data.bytes_per_second > 0 else f"{n} bytes"


def _riff_problem(f: BinaryIO, size: int, big_endian: bool) -> str | None:
    order = ">" if big_endian else "<"
    pos, ds64_data = 12, None
    fmt: tuple[int, int, int] | None = None  # format tag, bytes per second, bytes per frame
    while True:
        f.seek(pos)
        header = f.read(8)
        if len(header) == 0:
            return None  # no data chunk: soundfile says so
        if len(header) < 8:
            return _CUT_IN_HEADER
        cid, csize = header[:4], struct.unpack(order + "I", header[4:])[0]
        body = pos + 8
        if cid == b"data":
            if csize == _UNKNOWN_SIZE and ds64_data is not None:
                csize = ds64_data
            if fmt is None:
                return None  # data before fmt: soundfile refuses it
            tag, byte_rate, align = fmt
            claimed = -1 if csize == _UNKNOWN_SIZE else csize
            data = _Data(body, claimed, align if tag in _FRAMED_WAV else 0, float(byte_rate))
            return _data_problem(f, size, data, order)
        if body + csize > size:
            return _CUT_IN_HEADER
        if cid == b"fmt " and csize >= 16:
            tag, _, _, byte_rate, align = struct.unpack(order + "HHIIH", f.read(14))
            fmt = (tag, byte_rate, align)
        elif cid == b"ds64" and csize >= 16:
            ds64_data = struct.unpack(order + "QQ", f.read(16))[1]
        pos = body + csize + (csize & 1)


def _aiff_problem(f: BinaryIO, size: int) -> str | None:
    pos, frames, frame_bytes, rate = 12, -1, 0, 0.0
    f.seek(8)
    compressed = f.read(4) == b"AIFC"
    while True:
        f.seek(pos)
        header = f.read(8)
        if len(header) == 0:
            return None  # no SSND chunk: soundfile says so
        if len(header) < 8:
            return _CUT_IN_HEADER
        cid, csize = header[:4], struct.unpack(">I", header[4:])[0]
        body = pos + 8
        if cid == b"COMM" and csize >= 18 and body + 18 <= size:
            channels, frames, bits = struct.unpack(">hIh", f.read(8))
            rate = _extended(f.read(10))
            if not compressed or f.read(4) in (b"NONE", b"twos", b"sowt", b"fl32", b"FL32", b"fl64", b"FL64"):
                frame_bytes = channels * ((bits + 7) // 8)
        if cid == b"SSND":
            if body + 8 > size:
                return _CUT_IN_HEADER
            offset = struct.unpack(">I", f.read(4))[0]
            per_second = frame_bytes * rate
            data = _Data(body + 8 + offset, max(0, csize - 8 - offset), frame_bytes, per_second)
            problem = _data_problem(f, size, data, ">")
            if problem is None and frames >= 0 and frame_bytes and frames * frame_bytes > data.claimed:
                return (
                    f"damaged header: it says {frames} frames but the audio data holds "
                    f"{data.claimed // frame_bytes}; re-export the file"
                )
            return problem
        if body + csize > size:
            return _CUT_IN_HEADER
        pos = body + csize + (csize & 1)


def _w64_problem(f: BinaryIO, size: int) -> str | None:
    """Sony Wave64: RIFF with GUID chunk ids and 64-bit sizes that count the 24-byte chunk header."""
    pos = 40
    fmt: tuple[int, int, int] | None = None  # format tag, bytes per second, bytes per frame
    while True:
        f.seek(pos)
        header = f.read(24)
        if len(header) == 0:
            return None
        if len(header) < 24:
            return _CUT_IN_HEADER
        cid, csize = header[:4], struct.unpack("<Q", header[16:])[0]
        if cid == b"data":
            if fmt is None:
                return None
            tag, byte_rate, align = fmt
            data = _Data(pos + 24, max(0, csize - 24), align if tag in _FRAMED_WAV else 0, float(byte_rate))
            return _data_problem(f, size, data, None)
        if csize < 24 or pos + csize > size:
            return _CUT_IN_HEADER
        if cid == b"fmt " and csize >= 24 + 16:
            tag, _, _, byte_rate, align = struct.unpack("<HHIIH", f.read(14))
            fmt = (tag, byte_rate, align)
        pos += (csize + 7) // 8 * 8


def _caf_problem(f: BinaryIO, size: int) -> str | None:
    """Apple CAF: chunks of type + signed 64-bit size; a data size of -1 runs to the end of the file."""
    pos, frame_bytes, per_second = 8, 0, 0.0
    while True:
        f.seek(pos)
        header = f.read(12)
        if len(header) == 0:
            return None
        if len(header) < 12:
            return _CUT_IN_HEADER
        cid, csize = header[:4], struct.unpack(">q", header[4:])[0]
        if cid == b"data":
            if csize == -1:
                return _data_problem(f, size, _Data(pos + 16, -1, frame_bytes, per_second), None)
            return _data_problem(f, size, _Data(pos + 16, max(0, csize - 4), frame_bytes, per_second), None)
        if csize < 0 or pos + 12 + csize > size:
            return _CUT_IN_HEADER
        if cid == b"desc" and csize >= 32:
            rate, kind, _, packet_bytes, packet_frames = struct.unpack(">d4sIII", f.read(24))
            if kind == b"lpcm" and packet_frames == 1:
                frame_bytes, per_second = packet_bytes, packet_bytes * rate
        pos += 12 + csize


#: Sun/NeXT .au encodings whose frames are plain samples, and their bytes per sample
_AU_SAMPLE_BYTES = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4, 7: 8, 27: 1}


def _au_problem(head: bytes, f: BinaryIO, size: int) -> str | None:
    """Sun/NeXT .au: a fixed header with the data offset and size (0xFFFFFFFF: unknown, to the end)."""
    order = ">" if head[:4] == b".snd" else "<"
    f.seek(0)
    fields = f.read(24)
    if len(fields) < 24:
        return _CUT_IN_HEADER
    offset, claimed, encoding, rate, channels = struct.unpack(order + "5I", fields[4:24])
    frame_bytes = _AU_SAMPLE_BYTES.get(encoding, 0) * channels
    data = _Data(offset, -1 if claimed == _UNKNOWN_SIZE else claimed, frame_bytes, float(frame_bytes * rate))
    return _data_problem(f, size, data, None)


#: MPEG audio bitrates (kbit/s) by (MPEG-1: 1, MPEG-2/2.5: 2) and layer, and sample rates by version bits
_MPEG_KBPS = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame_length(header: bytes) -> int:
    """Bytes of the MPEG audio frame this 4-byte header starts; 0: not a frame header."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return 0
    version, layer = (header[1] >> 3) & 3, 4 - ((header[1] >> 1) & 3)  # layer 4: reserved
    rate_index, kbps_index, padding = (header[2] >> 2) & 3, header[2] >> 4, (header[2] >> 1) & 1
    if version == 1 or layer == 4 or rate_index == 3 or kbps_index in (0, 15):
        return 0  # reserved values, or free format (no length in the header)
    kbps = _MPEG_KBPS[(1 if version == 3 else 2, layer)][kbps_index]
    rate = _MPEG_RATES[version][rate_index]
    if layer == 1:
        return (12 * kbps * 1000 // rate + padding) * 4
    per_frame = 72 if layer == 3 and version != 3 else 144
    return per_frame * kbps * 1000 // rate + padding


def _mpeg_problem(raw: bytes) -> str | None:
    """Walk an MPEG audio (MP3) stream frame by frame: a last frame cut off is a file cut short. A stream
    without a Xing/Info header states no length, so a cut at a frame boundary cannot be told from a shorter
    recording; with one, the reader's frame count check refuses it (``load_audio``)."""
    pos, frames = 0, 0
    if raw[:3] == b"ID3" and len(raw) >= 10:  # an ID3v2 tag first: its size is 4 × 7 bits
        pos = 10 + sum((b & 0x7F) << (7 * (3 - k)) for k, b in enumerate(raw[6:10])) + (10 if raw[5] & 0x10 else 0)
    while pos < len(raw):
        length = _mpeg_frame_length(raw[pos : pos + 4])
        if not length and not (len(raw) - pos < 4 and raw[pos] == 0xFF):
            break  # a trailing tag (ID3v1 'TAG', APE) or anything else that is not audio: the walk ends
        if not length or pos + length > len(raw):  # the next frame's header or body cut off
            return (
                f"cut short: the MPEG audio stream's last frame is cut off after {frames} whole frame(s), as "
                "after an interrupted copy or download; copy it again or re-export it"
            )
        pos, frames = pos + length, frames + 1
    return None


def _extended(raw: bytes) -> float:
    """An 80-bit IEEE extended float (AIFF's sample rate)."""
    if len(raw) < 10:
        return 0.0
    exponent, mantissa = struct.unpack(">HQ", raw)
    sign = -1.0 if exponent & 0x8000 else 1.0
    exponent &= 0x7FFF
    return 0.0 if exponent == 0 and mantissa == 0 else sign * mantissa * 2.0 ** (exponent - 16383 - 63)


def _data_problem(f: BinaryIO, size: int, data: _Data, tail_order: str | None) -> str | None:
    """``tail_order``: the byte order of the chunks that may follow the data (None: not a chunked tail)."""
    present = size - data.offset
    if data.claimed < 0:  # streamed: the audio runs to the end of the file
        if data.frame_bytes and present % data.frame_bytes:
            return (
                f"cut short mid-frame: the audio runs to the end of the file (length unknown in the header) "
                f"and ends {present % data.frame_bytes} byte(s) into a {data.frame_bytes}-byte frame; copy it again"
            )
        return None
    if data.claimed > present:
        return (
            f"cut short: the header says {_seconds(data.claimed, data)} of audio ({data.claimed} bytes) but the "
            f"file holds {_seconds(max(0, present), data)} ({max(0, present)} bytes), as after an interrupted "
            "copy or download; copy it again or re-export it"
        )
    if data.frame_bytes and data.claimed % data.frame_bytes:
        return (
            f"damaged header: the audio data is {data.claimed} bytes, not a whole number of "
            f"{data.frame_bytes}-byte frames; re-export the file"
        )
    if tail_order is None:
        return None
    extra = _unexplained_tail(f, data.offset + data.claimed + (data.claimed & 1), size, tail_order)
    if extra and extra >= max(1, data.frame_bytes):  # fewer bytes than a frame hold no audio left unread
        return (
            f"{extra} byte(s) after the audio data are not part of the container: the header gives a shorter "
            f"length ({_seconds(data.claimed, data)}) than the audio written (a recorder that did not finish the "
            "file?); re-export it"
        )
    return None


def _unexplained_tail(f: BinaryIO, pos: int, size: int, order: str) -> int:
    """Bytes from ``pos`` to the end that are neither chunks (possibly the last one cut off) nor zero padding."""
    while pos < size:
        f.seek(pos)
        rest = f.read(min(8, size - pos))
        if not rest.strip(b"\0") and _all_zero(f, pos, size):
            return 0
        ident = rest[:4]
        if ident[:3] == b"TAG" and size - pos == 128:
            return 0  # an ID3v1 tag appended by a tagger
        if not all(0x20 <= b <= 0x7E for b in ident):
            return size - pos
        if len(rest) < 8:
            return 0  # a chunk header cut off: metadata lost, the audio is whole
        csize = struct.unpack(order + "I", rest[4:])[0]
        pos += 8 + csize + (csize & 1)
    return 0


def _all_zero(f: BinaryIO, pos: int, size: int) -> bool:
    f.seek(pos)
    while pos < size:
        block = f.read(min(1 << 16, size - pos))
        if block.strip(b"\0"):
            return False
        pos += len(block)
    return True


def _ogg_problem(f: BinaryIO, size: int) -> str | None:
    """Walk the pages: each must be whole, and every stream must end with its end-of-stream page."""
    pos, pages = 0, 0
    open_streams: set[int] = set()  # serial numbers of streams begun and not yet ended
    while pos < size:
        f.seek(pos)
        header = f.read(27)
        if len(header) < 27 or header[:4] != b"OggS":
            if len(header) < 27 and b"OggS".startswith(header[:4]):
                return _ogg_cut(pages)
            return None if not open_streams else _ogg_cut(pages)
        flags, serial, n_segments = header[5], struct.unpack("<I", header[14:18])[0], header[26]
        lacing = f.read(n_segments)
        end = pos + 27 + n_segments + sum(lacing)
        if len(lacing) < n_segments or end > size:
            return _ogg_cut(pages)
        if flags & 0x02:
            open_streams.add(serial)
        if flags & 0x04:
            open_streams.discard(serial)
        pages, pos = pages + 1, end
    return _ogg_cut(pages) if open_streams else None


def _ogg_cut(pages: int) -> str:
    return (
        f"cut short: the Ogg stream stops after {pages} whole page(s) without its end-of-stream page, as after "
        "an interrupted copy or download; copy it again or re-export it"
    )
