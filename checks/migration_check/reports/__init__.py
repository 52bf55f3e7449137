"""Reports read a finished `RunReport`: JUnit XML, the console, and GitHub's runner files."""
