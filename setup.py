"""Which packages the peacebot distribution holds; everything else is in pyproject.toml.

The study content stays in the repository's top-level content/ folder, where writers edit it,
and ships inside the package as `bot.study_content` (read through importlib.resources). A
package whose folder has another name can only be declared here: pyproject.toml's package
discovery (`packages.find`) cannot be combined with a package listed by hand.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["bot", "bot.*", "cogs", "cogs.*"]), "bot.study_content"],
    package_dir={"bot.study_content": "content"},
)
