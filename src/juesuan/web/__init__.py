"""The web application: the finance office's workplace (Django). See docs.md beside this file.

This package is the only part of juesuan that imports Django; the core never imports it.
"""
