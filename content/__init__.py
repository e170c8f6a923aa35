"""The study content, importable as `bot.study_content` once peacebot is installed.

Nothing to edit here: the content is the YAML files beside this one (see README.md).
"""
