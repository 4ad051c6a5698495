"""The form kit every feature's forms share: fields, validators, pick lists."""
