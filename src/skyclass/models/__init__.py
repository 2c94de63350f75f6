"""Deep-learning models, built by name: ``create_model("kang2023_rnn", num_outputs=4)``.

Every model takes a dict batch and returns (B, num_outputs); ``list_models()``
names them, ``save_model`` / ``load_model`` store one as safetensors + JSON.
"""

from skyclass.models.io import load_model, save_model
from skyclass.models.registry import (
    ModelSpec,
    create_model,
    get_model_spec,
    list_models,
    register_model,
)

__all__ = [
    "ModelSpec",
    "create_model",
    "get_model_spec",
    "list_models",
    "load_model",
    "register_model",
    "save_model",
]
