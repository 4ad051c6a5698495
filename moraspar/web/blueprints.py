"""The features' blueprints and where they are mounted."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from moraspar.admin.views import bp as admin_bp
    from moraspar.auth.views import bp as auth_bp
    from moraspar.bookings.views import bp as bookings_bp
    from moraspar.companies.views import bp as companies_bp
    from moraspar.council.views import bp as council_bp
    from moraspar.gaps.views import bp as gaps_bp
    from moraspar.jobs.views import bp as jobs_bp
    from moraspar.main.views import bp as main_bp
    from moraspar.meetings.views import bp as meetings_bp
    from moraspar.notifications.views import bp as notifications_bp
    from moraspar.privacy.views import bp as privacy_bp
    from moraspar.schools.views import bp as schools_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(schools_bp, url_prefix="/school")
    app.register_blueprint(companies_bp, url_prefix="/company")
    app.register_blueprint(council_bp, url_prefix="/council")
    app.register_blueprint(gaps_bp, url_prefix="/gaps")
    app.register_blueprint(meetings_bp, url_prefix="/meetings")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(jobs_bp, url_prefix="/admin/jobs")
    app.register_blueprint(bookings_bp, url_prefix="/bookings")
    app.register_blueprint(notifications_bp, url_prefix="/notifications")
    app.register_blueprint(privacy_bp, url_prefix="/my-data")
