import sys

from gui.launch import main

sys.exit(main(["--window", *sys.argv[1:]]))
