"""Sign-in, sign-out, password change and the person's language."""
