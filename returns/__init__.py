"""The returns engine: send each returned item where it is most likely to sell again."""
