"""peacebot core: content, lookup, storage, scheduling and quiz state, free of Discord."""

__version__ = "0.1.0"
