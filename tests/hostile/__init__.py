"""The hostile-input and fault matrix (issue 12): each class of input or fault in a module of its own."""
