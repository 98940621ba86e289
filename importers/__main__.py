"""``python -m zhubaodai.importers identify|extract|archive``: see :mod:`zhubaodai.importers.cli`."""

from zhubaodai.importers.cli import main

main()
