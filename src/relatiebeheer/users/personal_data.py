"""Personal-data registry: the firm's own users (not contacts)."""

from relatiebeheer.privacy.registry import not_personal, personal

personal(
    "users.User",
    "username",
    "first_name",
    "last_name",
    "email",
    why="a user's own name and address; managed in the user administration",
    subject="user",
)
not_personal("users.User", "password", why="a salted hash, a credential")
not_personal("users.User", "role", "language", why="a role and a language code")
not_personal("users.ApiToken", "name", "hint", why="a label and the token's last characters")
not_personal("users.ApiToken", "token_hash", why="a hash, a credential")
personal(
    "users.LoginThrottle",
    "address",
    why="the address (IPv6: its /64) that failed logins came from; forgotten after "
    "LOGIN_ADDRESS_FORGET_MINUTES without failures",
    subject="user",
)
