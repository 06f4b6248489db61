"""Sliders on a demo in a notebook (ipywidgets): its knobs (lr, momentum, epsilon, method, ...) and the frame.

Moving a knob rebuilds the demo (the last few builds are cached); moving the frame slider redraws
that frame. The picture is a PNG in an ``ipywidgets.Image``, so it needs no interactive
matplotlib backend.
"""
from __future__ import annotations

import io
import math

__all__ = ["interactive", "Interactive", "MISSING"]

MISSING = ("interactive demos need ipywidgets: pip install 'stochopt[teach]' (or pip install ipywidgets), then "
           "restart the kernel. Without it, use verify.teach.build(name, ...) and demo.still() or demo.gif().")


def _control(widgets, knob, value):
    style = {"description_width": "initial"}
    common = {"description": knob.name, "tooltip": knob.help, "style": style}
    if knob.choices:
        return widgets.Dropdown(options=list(knob.choices), value=value, **common)
    if knob.integer:
        return widgets.IntSlider(min=int(knob.low), max=int(knob.high), value=int(value), continuous_update=False,
                                 **common)
    if knob.low > 0 and knob.high / knob.low >= 50:
        return widgets.FloatLogSlider(base=10, min=math.log10(knob.low), max=math.log10(knob.high), value=value,
                                      step=0.05, continuous_update=False, readout_format=".3g", **common)
    return widgets.FloatSlider(min=knob.low, max=knob.high, value=value, step=(knob.high - knob.low) / 100,
                               continuous_update=False, readout_format=".3g", **common)


class Interactive:
    """The widget (``widget``), its controls (``controls``: knob name -> widget, ``frame``), and ``demo``,
    the demo currently shown. Displays itself in a notebook."""

    def __init__(self, name, frames, params, dpi):
        try:
            import ipywidgets as widgets
        except ImportError:
            raise ImportError(MISSING) from None
        from . import build, knob_values, knobs

        self.name, self.frames, self.dpi = name, frames, dpi
        values = knob_values(knobs(name), params, name)
        self.controls = {k.name: _control(widgets, k, values[k.name]) for k in knobs(name)}
        self.frame = widgets.IntSlider(min=0, max=frames - 1, value=frames - 1, description="frame",
                                       continuous_update=False)
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        self._build, self._cache = build, {}
        self.demo = None
        for control in [*self.controls.values(), self.frame]:
            control.observe(self.refresh, names="value")
        self.refresh()
        caption = widgets.HTML(f"<p style='max-width:60em'>{self.demo.caption}</p>")
        self.widget = widgets.VBox([widgets.HTML(f"<b>{self.demo.title}</b>"),
                                    widgets.HBox(list(self.controls.values())), self.frame, self.image,
                                    self.status, caption])

    def refresh(self, change=None):
        """Rebuild the demo if a knob moved, then draw the chosen frame."""
        from PIL import Image

        values = {name: control.value for name, control in self.controls.items()}
        key = tuple(sorted(values.items()))
        if key not in self._cache:
            if len(self._cache) >= 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = self._build(self.name, frames=self.frames, **values)
        self.demo = self._cache[key]
        buf = io.BytesIO()
        Image.fromarray(self.demo.frame_rgba(self.frame.value, self.dpi)).save(buf, format="png")
        self.image.value = buf.getvalue()
        self.status.value = f"<small>{self.name}: frame {self.frame.value + 1} of {self.frames}; {values}</small>"

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def interactive(name: str, frames: int = 40, dpi: float = 72, **params) -> Interactive:
    """Sliders for demo ``name``'s knobs and the frame (see ``verify.teach.knobs(name)``).

    Raises ImportError with the install command when ipywidgets is missing.
    """
    from . import _check_frames, _module, check_dpi

    _module(name)
    return Interactive(name, _check_frames(frames), params, check_dpi(dpi))
