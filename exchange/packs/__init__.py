"""Course packs: practices gathered into a course, pinned at versions, and their exports."""
