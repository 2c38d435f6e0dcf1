"""Personal-data registry: import jobs keep messages and issues with cell values."""

from relatiebeheer.privacy.registry import not_personal, personal

not_personal(
    "imports.ImportJob",
    "kind",
    "channel",
    "language",
    "filename",
    "path",
    "mapping",
    "options",
    "status",
    "phase",
    why="what was imported, how, and where the upload was kept (see imports.retention)",
)
personal(
    "imports.ImportJob",
    "file_info",
    "summary",
    "message",
    why="the file's headers, the outcome and messages may quote a cell",
    anywhere=True,
)
not_personal("imports.ImportIssue", "column", "field", "code", why="where and which problem")
personal(
    "imports.ImportIssue",
    "value",
    "params",
    why="the cell's value that was refused (a name, an address)",
    anywhere=True,
)
not_personal(
    "imports.ImportPreset",
    "kind",
    "name",
    "mapping",
    "options",
    why="a saved column mapping",
)
