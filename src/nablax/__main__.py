"""`python -m nablax` runs the demo."""

from .demo import main

main()
