# A package, so pytest puts the repository root (not tests/) on sys.path and `import ray`
# finds the Ray package rather than this folder.
