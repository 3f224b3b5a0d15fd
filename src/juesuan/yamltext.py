"""YAML text read as data: safe, with libyaml's parser where PyYAML was built with it.

libyaml's parser gives the same values as PyYAML's pure-Python one and is several times faster:
a build reads about a dozen format, rule and wording files, which cost about 0.1 CPU-s with the
pure-Python parser before anything is computed.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The data of a YAML document; raises yaml.YAMLError when it is not valid YAML."""
    return yaml.load(text, Loader=SafeLoader)
