"""Sending surveys: invitations, automatic invitations and reminders, and their mails."""
