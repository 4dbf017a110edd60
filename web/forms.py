"""The HTML forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from engine.models import Role
from engine.text import EMAIL

REQUIRED = "此项必填"


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=80)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=200)])


class PasswordForm(FlaskForm):
    """Change the own password."""

    current = PasswordField("当前密码", validators=[DataRequired(REQUIRED), Length(max=200)])
    new = PasswordField("新密码", validators=[
        DataRequired(REQUIRED), Length(min=8, max=200, message="密码须为 8–200 位")])
    confirm = PasswordField("再次输入新密码", validators=[
        DataRequired(REQUIRED), EqualTo("new", message="两次输入的新密码不一致")])


class EvidenceForm(FlaskForm):
    """A work item's evidence; the task's numbers are read from fields named ``num_<key>``."""

    text = TextAreaField("工作进展与佐证说明", validators=[Length(max=20000)])
    files = MultipleFileField("附件")


class ProgressForm(FlaskForm):
    """A periodic progress report; numbers so far come from fields named ``num_<key>``."""

    text = TextAreaField("已做工作和进展", validators=[
        Length(max=20000, message="工作进展不能超过 20000 字")])
    problems = TextAreaField("需协调解决的问题", validators=[
        Optional(), Length(max=20000, message="需协调解决的问题不能超过 20000 字")])
    next_steps = TextAreaField("下一步工作安排", validators=[
        Optional(), Length(max=20000, message="下一步工作安排不能超过 20000 字")])
    files = MultipleFileField("附件")


class ReviewForm(FlaskForm):
    """Approve, or return with a reason."""

    reason = TextAreaField("退回理由", validators=[Optional(), Length(max=4000)])


class ExtensionRequestForm(FlaskForm):
    """延期申请: the date asked for, why, and the progress so far."""

    new_due = DateField("申请延期至", validators=[DataRequired(REQUIRED)])
    reason = TextAreaField("延期理由", validators=[DataRequired(REQUIRED), Length(max=4000)])
    progress = TextAreaField("目前进展", validators=[Optional(), Length(max=4000)])


class ExtensionDecisionForm(FlaskForm):
    """The supervisor's decision on a request."""

    due = DateField("批准的新期限", validators=[Optional()])
    note = TextAreaField("意见", validators=[Optional(), Length(max=4000)])


class UrgeForm(FlaskForm):
    """A manual 催办 message."""

    message = TextAreaField("催办内容", validators=[Optional(), Length(max=2000)])


class InterviewForm(FlaskForm):
    """约谈: when, with whom, what was said and required."""

    held_on = DateField("约谈日期", validators=[DataRequired(REQUIRED)])
    interviewee = StringField("被约谈人（姓名、职务）",
                              validators=[DataRequired(REQUIRED), Length(
                                  max=200, message="被约谈人不能超过 200 字")])
    summary = TextAreaField("约谈情况", validators=[
        DataRequired(REQUIRED), Length(max=20000, message="约谈情况不能超过 20000 字")])


class UserForm(FlaskForm):
    """A new account."""

    username = StringField("用户名", validators=[
        DataRequired(REQUIRED), Length(min=3, max=80),
        Regexp(r"\A[A-Za-z0-9_.-]+\Z", message="只能包含字母、数字、下划线、点和连字符")])
    display_name = StringField("姓名", validators=[DataRequired(REQUIRED), Length(max=100)])
    role = SelectField("角色", choices=[SelectChoice(Role.LIAISON.value, "联络员"),
                                        SelectChoice(Role.SUPERVISOR.value, "督查人员"),
                                        SelectChoice(Role.ADMIN.value, "管理员")])
    unit_id = SelectField("所属单位", choices=[], validators=[Optional()])
    email = StringField("邮箱", validators=[
        Optional(), Length(max=200),
        Regexp(EMAIL, message="邮箱格式不正确")])


class PolicyUploadForm(FlaskForm):
    """A decomposition table to import, and what the file may not say."""

    file = FileField("任务分解表文件", validators=[FileRequired("请选择文件")])
    policy_id = StringField("政策编号", validators=[
        Optional(), Length(max=60),
        Regexp(r"\A[a-z0-9][a-z0-9_-]*\Z", message="只能包含小写字母、数字、- 和 _")])
    title = StringField("标题", validators=[Optional(), Length(max=300)])
    issued_on = DateField("发布日期", validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""

    confirm = BooleanField("确认", default=True)


class ClockForm(FlaskForm):
    """Advance the simulated clock to a date."""

    until = DateField("推进到", validators=[DataRequired(REQUIRED)])


class UnitNameForm(FlaskForm):
    """A new name of a unit from a date on."""

    name = StringField("新名称", validators=[DataRequired(REQUIRED), Length(max=100)])
    short_name = StringField("简称", validators=[Optional(), Length(max=40)])
    valid_from = DateField("启用日期", validators=[DataRequired(REQUIRED)])
