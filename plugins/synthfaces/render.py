"""Procedural cartoon faces: every label plainly visible, nuisance everywhere else.

``render(labels, nuisance)`` draws one face per row of labels with Pillow at
twice (or four times) the asked size and box-downsamples it (anti-aliasing).
All geometry is computed for the whole batch with numpy in a head-centred
frame (``u`` across, ``v`` down, the head's half-width and half-height being
1) and mapped to pixels with each face's scale, shift and tilt; the per-image
loop only issues draw calls. Same labels and nuisance give the same pixels.

Where each attribute shows (head frame, see ``REGIONS``):
Young=0 grey hair and brows, forehead lines and crow's feet; Male square jaw,
short hair and ears, Male=0 long hair to the shoulders and a narrow chin;
Eyeglasses dark frames around the eyes; Bald a bare, shiny crown; Mustache a
dark band between nose and mouth; Smiling a mouth curved up at the corners
(flat otherwise); Wearing_Lipstick saturated red thick lips; Mouth_Slightly_Open
a dark mouth interior (with teeth when smiling); Narrow_Eyes dark slits
instead of white eyes with pupils.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ckgan import CkganError

from .scm import ATTRIBUTES

#: The nuisance factors, each a float in [0, 1]: they vary the image, never a label.
NUISANCE = (
    "skin_tone",  # light to dark skin
    "hair_colour",  # black, brown, auburn, blond (greyed when old)
    "background_hue",
    "background_light",
    "clothing_hue",
    "head_size",
    "head_x",
    "head_y",
    "rotation",  # head tilt, about +-10 degrees
    "face_width",
    "hair_volume",
    "hairline",  # height of the hairline and side of the parting
    "eye_height",  # openness of round eyes, thickness of narrow ones
    "gaze",  # pupils left or right
    "lip_hue",  # lipstick shade (red to pink)
    "frame_tone",  # colour of the glasses' frames
)

#: Rectangles ``(u0, v0, u1, v1)`` of the head frame where each attribute draws.
REGIONS = {
    "Eyeglasses": (-1.05, -0.36, 1.05, 0.2),
    "Bald": (-1.3, -1.3, 1.3, 0.12),
    "Mustache": (-0.45, 0.28, 0.45, 0.53),
    "Smiling": (-0.4, 0.44, 0.4, 1.02),
    "Wearing_Lipstick": (-0.4, 0.44, 0.4, 1.02),
    "Mouth_Slightly_Open": (-0.4, 0.44, 0.4, 1.02),
    "Narrow_Eyes": (-0.6, -0.25, 0.6, 0.12),
}

_HAIR = np.array([(28, 24, 22), (62, 40, 28), (100, 62, 34), (138, 56, 30), (222, 188, 112)], float)
_SKIN = np.array([(250, 222, 196), (232, 186, 146), (196, 138, 96), (150, 98, 66)], float)
_GREY = np.array((196, 196, 200), float)
_DARK_EYE = (34, 26, 28)
_MOUTH = (70, 18, 26)
_TEETH = (246, 244, 236)
_SUPERSAMPLE = {16: 4, 32: 4, 64: 4}  # other sizes draw at 2x


def sample_nuisance(n: int, rng: np.random.Generator | int | None = None) -> dict[str, np.ndarray]:
    """``n`` independent draws of every nuisance factor, uniform on [0, 1], float32."""
    rng = np.random.default_rng(rng)
    values = rng.random((n, len(NUISANCE))).astype(np.float32)
    return {name: values[:, i] for i, name in enumerate(NUISANCE)}


def nuisance_array(nuisance: dict[str, np.ndarray]) -> np.ndarray:
    """The nuisance dict as an ``(n, len(NUISANCE))`` float32 array, checked."""
    missing = [k for k in NUISANCE if k not in nuisance]
    if missing:
        raise CkganError(f"nuisance lacks '{missing[0]}': pass sample_nuisance(n) output")
    cols = [np.asarray(nuisance[k], dtype=np.float32).reshape(-1) for k in NUISANCE]
    if len({len(c) for c in cols}) != 1:
        raise CkganError("nuisance arrays differ in length: give one value per image")
    return np.stack(cols, axis=1)


def render(labels: np.ndarray, nuisance: dict[str, np.ndarray], size: int = 64) -> np.ndarray:
    """Faces for ``(n, 9)`` 0/1 labels (``ATTRIBUTES`` order), ``(n, size, size, 3)`` uint8."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[1] != len(ATTRIBUTES):
        raise CkganError(
            f"labels have shape {labels.shape}: expected (n, {len(ATTRIBUTES)}) "
            f"columns {', '.join(ATTRIBUTES)}"
        )
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise CkganError("labels must be 0 or 1: round soft labels before rendering")
    if not isinstance(size, int | np.integer) or size < 16:
        raise CkganError(f"image size {size} is too small: use 16 or more (e.g. 32 or 64)")
    nu = nuisance_array(nuisance)
    if len(nu) != len(labels):
        raise CkganError(f"{len(labels)} label rows but {len(nu)} nuisance rows: give one each")
    n = len(labels)
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    if n == 0:
        return out
    ss = _SUPERSAMPLE.get(int(size), 2)
    plan = _plan(labels.astype(bool), nu.astype(np.float64), int(size) * ss)
    for i in range(n):
        img = _draw(plan, i, int(size) * ss)
        out[i] = np.asarray(img.reduce(ss))
    return out


# -- geometry for the whole batch ---------------------------------------------


def _ellipse(cu, cv, ru, rv, k=20):
    """``k`` points around an axis-aligned ellipse of the head frame."""
    t = np.linspace(0.0, 2 * np.pi, k, endpoint=False)
    return cu + ru * np.cos(t), cv + rv * np.sin(t)


def _col(x):
    return np.asarray(x, float)[:, None]


def _rgb(a) -> list[tuple[int, int, int]]:
    a = np.clip(np.rint(a), 0, 255).astype(int)
    return [tuple(r) for r in a.tolist()]


def _palette(pal: np.ndarray, t: np.ndarray) -> np.ndarray:
    x = t * (len(pal) - 1)
    i = np.clip(np.floor(x).astype(int), 0, len(pal) - 2)
    f = (x - i)[:, None]
    return pal[i] * (1 - f) + pal[i + 1] * f


def _hsv(h, s, v) -> np.ndarray:
    """Vectorised HSV (each in [0, 1], broadcast) to ``(n, 3)`` RGB in [0, 255]."""
    h, s, v = np.broadcast_arrays(np.asarray(h, float) % 1.0, s, v)
    i = np.floor(h * 6).astype(int) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=1) * 255


def _frame(N: dict, S: float) -> tuple[np.ndarray, ...]:
    """Half-width, half-height, centre and tilt (cos, sin) of each head, in pixels of ``S``."""
    scale = 0.92 + 0.14 * N["head_size"]
    a = S * 0.29 * scale * (0.92 + 0.12 * N["face_width"])
    b = S * 0.34 * scale
    cx = S * (0.5 + 0.06 * (N["head_x"] - 0.5))
    cy = S * (0.47 + 0.06 * (N["head_y"] - 0.5))
    th = np.deg2rad(20.0 * (N["rotation"] - 0.5))
    return a, b, cx, cy, np.cos(th), np.sin(th)


def to_pixels(u, v, nuisance: dict[str, np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Head-frame points ``(u, v)`` as pixel coordinates ``(x, y)`` of each face, ``(n, k)``."""
    nu = nuisance_array(nuisance).astype(np.float64)
    a, b, cx, cy, co, si = (_col(x) for x in _frame(dict(zip(NUISANCE, nu.T, strict=True)), size))
    u = np.atleast_1d(np.asarray(u, float))[None, :] * a
    v = np.atleast_1d(np.asarray(v, float))[None, :] * b
    return cx + co * u - si * v, cy + si * u + co * v


def _plan(lab: np.ndarray, nu: np.ndarray, S: int) -> dict:
    """Every polygon, line and colour of the batch, in canvas pixels."""
    N = dict(zip(NUISANCE, nu.T, strict=True))
    young, male, glasses, bald, mustache, smile, lipstick, mopen, narrow = lab.T
    n = len(lab)

    A, B, CX, CY, CO, SI = (_col(x) for x in _frame(N, S))

    def pts(u, v):
        """Head-frame points (broadcast to ``(n, k)``) as flat canvas coordinate lists."""
        u = np.broadcast_to(u, (n, np.shape(u)[-1])) * A
        v = np.broadcast_to(v, (n, np.shape(v)[-1])) * B
        x = CX + CO * u - SI * v
        y = CY + SI * u + CO * v
        return np.stack([x, y], axis=2).reshape(n, -1)

    def lw(rel):
        return np.maximum(1, np.rint(rel * B[:, 0])).astype(int).tolist()

    P: dict = {}
    # colours
    skin = _palette(_SKIN, N["skin_tone"])
    hair = _palette(_HAIR, N["hair_colour"])
    hair = np.where(young[:, None], hair, 0.18 * hair + 0.82 * _GREY)
    P["bg"] = _rgb(
        _hsv(
            N["background_hue"],
            0.18 + 0.3 * N["background_light"],
            0.95 - 0.25 * N["background_light"],
        )
    )
    P["cloth"] = _rgb(_hsv(N["clothing_hue"], 0.55, 0.45 + 0.3 * (N["clothing_hue"] * 7.0 % 1.0)))
    P["skin"] = _rgb(skin)
    P["skin_dark"] = _rgb(skin * 0.78)
    P["skin_line"] = _rgb(skin * 0.55)
    P["skin_light"] = _rgb(np.minimum(255, skin * 1.12 + 22))
    P["hair"] = _rgb(hair)
    P["brow"] = _rgb(np.minimum(hair * 0.7, skin * 0.55))
    P["must"] = _rgb(np.minimum(hair * 0.5, skin * 0.45))  # dark on any skin
    lip_h = (0.93 + 0.1 * N["lip_hue"]) % 1.0
    red = _hsv(lip_h, 0.82 + 0.1 * N["lip_hue"], 0.84 + 0.1 * N["skin_tone"])
    natural = skin * np.array([0.72, 0.48, 0.46]) + np.array([24.0, 0.0, 0.0])
    P["lip"] = _rgb(np.where(lipstick[:, None], red, natural))
    P["frame"] = _rgb(_hsv(N["frame_tone"], 0.5, 0.12 + 0.18 * N["frame_tone"]))

    # body: neck and shoulders
    P["neck"] = pts(np.array([-0.34, 0.34, 0.4, -0.4]), np.array([0.6, 0.6, 1.45, 1.45]))
    u, v = _ellipse(0.0, 2.1, 1.9, 0.95, 24)
    P["shoulders"] = pts(u, np.minimum(v, 2.9))

    # face outline: square jaw for men, narrow pointed chin for women
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    ct, st = np.cos(t), np.sin(t)
    low = st > 0
    sq = np.sign(ct) * np.abs(ct) ** (2 / 3.2)
    u_m = np.where(low, sq, ct)
    v_m = np.where(low, np.sign(st) * np.abs(st) ** (2 / 3.2) * 0.98, st)
    u_f = np.where(low, ct * (1 - 0.16 * st), ct)
    v_f = np.where(low, st * 1.03, st)
    M = male[:, None]
    P["face"] = pts(np.where(M, u_m, u_f), np.where(M, v_m, v_f))
    P["face_edge"] = pts(np.where(M, u_m, u_f) * 1.035, np.where(M, v_m, v_f) * 1.03)
    ears_u, ears_v = _ellipse(0.0, -0.02, 0.17, 0.24, 12)
    P["ear_l"] = pts(ears_u - 0.98, ears_v)
    P["ear_r"] = pts(ears_u + 0.98, ears_v)

    # hair
    vol = _col(0.05 + 0.09 * N["hair_volume"])
    # long hair behind the head (women); starts at the ears when bald
    t = np.linspace(np.pi * 0.5, np.pi * 2.5, 30)
    bu = np.cos(t) * (1.12 + vol) * (1 + 0.08 * np.clip(np.sin(t), 0, 1))
    bv = np.sin(t) * (1.06 + vol)
    bv = np.where(np.sin(t) > 0.3, 1.15 + 0.1 * vol, bv)
    top = np.where(bald[:, None], -0.3, -9.0)
    P["back_hair"] = pts(bu, np.maximum(bv, top))
    # crown: arc over the top of the head, back along the hairline
    side = np.where(male, -0.2, 0.1)
    t0 = np.pi + np.arcsin(np.clip(-side, -1, 1))  # angle where the arc meets the side
    k = 16
    s = np.linspace(0.0, 1.0, k)[None, :]
    t = t0[:, None] + s * (3 * np.pi - 2 * t0[:, None])
    cu = np.cos(t) * (1 + vol)
    cv = np.sin(t) * (1 + vol)
    hl = _col(-0.56 + 0.1 * (N["hairline"] - 0.5))
    part = _col(0.5 * (N["hairline"] - 0.5))
    hu = np.linspace(0.92, -0.92, 9)[None, :]
    hv = hl + 0.22 * hu**2 - 0.25 * part * hu  # a tilted hairline: the parting's side
    hv = np.where(np.abs(hu) > 0.85, np.minimum(hv, side[:, None] - 0.02), hv)
    P["crown"] = pts(
        np.concatenate([cu, np.broadcast_to(hu, (n, 9))], 1), np.concatenate([cv, hv], 1)
    )
    tu, tv = (np.array([0.84, 1.04, 1.07, 0.94, 0.88]), np.array([-0.42, -0.38, 0.02, 0.06, -0.1]))
    P["tuft_l"] = pts(-tu, tv)
    P["tuft_r"] = pts(tu, tv)
    su, sv = _ellipse(-0.32, -0.74, 0.2, 0.09, 10)
    P["shine"] = pts(su, sv)

    # wrinkles (old): forehead lines and crow's feet
    fu = np.linspace(-0.34, 0.34, 5)
    P["wr1"] = pts(fu, -0.44 + 0.025 * np.cos(fu * 6))
    P["wr2"] = pts(fu * 0.8, -0.37 + 0.02 * np.cos(fu * 6))
    P["crow_l"] = pts(np.array([-0.82, -0.66, -0.82]), np.array([-0.14, -0.07, 0.0]))
    P["crow_r"] = pts(np.array([0.82, 0.66, 0.82]), np.array([-0.14, -0.07, 0.0]))
    P["wr_w"] = lw(0.045)

    # brows
    bru = np.array([0.18, 0.38, 0.6])
    brv = np.array([-0.28, -0.33, -0.28])
    P["brow_l"] = pts(-bru, brv)
    P["brow_r"] = pts(bru, brv)
    P["brow_w"] = lw(0.05)

    # eyes: white with a pupil, or a dark slit
    eh = _col(np.where(narrow, 0.035 + 0.015 * N["eye_height"], 0.115 + 0.035 * N["eye_height"]))
    eu, ev = _ellipse(0.0, -0.06, 0.18, 1.0, 16)
    P["eye_l"] = pts(eu - 0.38, -0.06 + (ev + 0.06) * eh)
    P["eye_r"] = pts(eu + 0.38, -0.06 + (ev + 0.06) * eh)
    g = _col(0.07 * (N["gaze"] - 0.5))
    pr = 0.075
    pu, pv = _ellipse(0.0, -0.06, 1.0, pr, 10)
    pu = pu * pr * B / A + g
    P["pupil_l"] = pts(pu - 0.38, pv)
    P["pupil_r"] = pts(pu + 0.38, pv)

    # glasses: two rings, a bridge, the temples
    gu, gv = _ellipse(0.0, -0.07, 0.28, 0.23, 18)
    P["lens_l"] = pts(np.append(gu - 0.38, gu[0] - 0.38), np.append(gv, gv[0]))
    P["lens_r"] = pts(np.append(gu + 0.38, gu[0] + 0.38), np.append(gv, gv[0]))
    P["bridge"] = pts(np.array([-0.11, 0.0, 0.11]), np.array([-0.1, -0.13, -0.1]))
    P["temple_l"] = pts(np.array([-0.66, -0.99]), np.array([-0.1, -0.14]))
    P["temple_r"] = pts(np.array([0.66, 0.99]), np.array([-0.1, -0.14]))
    P["frame_w"] = lw(0.055)

    # nose
    P["nose"] = pts(np.array([0.0, -0.1, 0.0, 0.1]), np.array([0.08, 0.27, 0.31, 0.27]))

    # mustache: a thick band between nose and mouth
    P["mustache"] = pts(
        np.array([-0.4, -0.2, -0.05, 0.0, 0.05, 0.2, 0.4, 0.34, 0.15, 0.0, -0.15, -0.34]),
        np.array([0.45, 0.33, 0.32, 0.35, 0.32, 0.33, 0.45, 0.5, 0.44, 0.46, 0.44, 0.5]),
    )

    # mouth: lips around a centre line; a hole when open, teeth when open and smiling
    k = 13
    s = np.linspace(-1.0, 1.0, k)[None, :]
    q = 1 - s**2
    sq = np.sqrt(q)
    Sm, Op = smile[:, None], mopen[:, None]
    w = np.where(Op & ~Sm, 0.25, 0.33)
    curve = np.where(Sm, 0.21, 0.0)
    c = 0.64 - curve * 0.55 + curve * q
    hole_top = np.where(Sm, c - curve * q * 0.85, c - 0.1 * sq)
    hole_bot = c + np.where(Sm, 0.17, 0.11) * sq
    hole_top = np.where(Op, hole_top, c)
    hole_bot = np.where(Op, hole_bot, c)
    th = np.where(lipstick[:, None], 0.085, 0.04) * (0.45 + 0.55 * sq)
    mu = s * w
    P["lips"] = pts(
        np.concatenate([mu, mu[:, ::-1]], 1) * 1.04,
        np.concatenate([hole_top - th, (hole_bot + th)[:, ::-1]], 1),
    )
    P["hole"] = pts(
        np.concatenate([mu, mu[:, ::-1]], 1), np.concatenate([hole_top, hole_bot[:, ::-1]], 1)
    )
    tb = hole_top + 0.35 * (hole_bot - hole_top)
    P["teeth"] = pts(
        np.concatenate([mu, mu[:, ::-1]], 1) * 0.9, np.concatenate([hole_top, tb[:, ::-1]], 1)
    )
    P["seam"] = pts(mu * 0.96, c)
    P["seam_w"] = lw(0.045)

    P["flags"] = {
        "young": young.tolist(),
        "male": male.tolist(),
        "glasses": glasses.tolist(),
        "bald": bald.tolist(),
        "mustache": mustache.tolist(),
        "smile": smile.tolist(),
        "open": mopen.tolist(),
        "narrow": narrow.tolist(),
    }
    return P


def _draw(P: dict, i: int, S: int) -> Image.Image:
    """Issue the draw calls of face ``i`` of the plan."""
    F = {k: v[i] for k, v in P["flags"].items()}
    img = Image.new("RGB", (S, S), P["bg"][i])
    d = ImageDraw.Draw(img)

    def poly(name, col):
        d.polygon(P[name][i].tolist(), fill=P[col][i])

    def line(name, col, width):
        d.line(P[name][i].tolist(), fill=P[col][i], width=P[width][i], joint="curve")

    poly("shoulders", "cloth")
    poly("neck", "skin_dark")
    poly("ear_l", "skin_dark")
    poly("ear_r", "skin_dark")
    if not F["male"]:
        poly("back_hair", "hair")
    poly("face_edge", "skin_line")
    poly("face", "skin")
    if F["bald"]:
        poly("shine", "skin_light")
        if F["male"]:
            poly("tuft_l", "hair")
            poly("tuft_r", "hair")
    else:
        poly("crown", "hair")
    if not F["young"]:
        line("wr1", "skin_line", "wr_w")
        line("wr2", "skin_line", "wr_w")
        line("crow_l", "skin_line", "wr_w")
        line("crow_r", "skin_line", "wr_w")
    line("brow_l", "brow", "brow_w")
    line("brow_r", "brow", "brow_w")
    if F["narrow"]:
        d.polygon(P["eye_l"][i].tolist(), fill=_DARK_EYE)
        d.polygon(P["eye_r"][i].tolist(), fill=_DARK_EYE)
    else:
        d.polygon(P["eye_l"][i].tolist(), fill=(255, 255, 255))
        d.polygon(P["eye_r"][i].tolist(), fill=(255, 255, 255))
        d.polygon(P["pupil_l"][i].tolist(), fill=_DARK_EYE)
        d.polygon(P["pupil_r"][i].tolist(), fill=_DARK_EYE)
    if F["glasses"]:
        for name in ("lens_l", "lens_r", "bridge", "temple_l", "temple_r"):
            line(name, "frame", "frame_w")
    poly("nose", "skin_dark")
    if F["mustache"]:
        poly("mustache", "must")
    poly("lips", "lip")
    if F["open"]:
        d.polygon(P["hole"][i].tolist(), fill=_MOUTH)
        if F["smile"]:
            d.polygon(P["teeth"][i].tolist(), fill=_TEETH)
    else:
        d.line(P["seam"][i].tolist(), fill=_MOUTH, width=P["seam_w"][i], joint="curve")
    return img
