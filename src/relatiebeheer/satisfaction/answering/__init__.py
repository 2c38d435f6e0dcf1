"""Answering a survey: answer links (tokens), the answer form, drafts and the submission."""
