"""Entry point of the component package (``PulumiPlugin.yaml``'s ``main``), not the program.

The program is ``__main__.py`` at the project root; this file only serves the components to
other programs through ``securestore.provider``.
"""

from securestore.provider import main

if __name__ == "__main__":
    main()
