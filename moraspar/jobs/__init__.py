"""Background jobs on a Huey queue: match runs, mail delivery, the daily chores.

queue.py builds the app's queue (SQLite file by default, Redis in production,
run at once under TESTING); tasks.py holds the jobs and their schedule;
matchruns.py claims a match run with a lease so that a run whose worker died
is taken up again; records.py keeps the scheduled jobs' runs for the admin.
"""
