"""UI texts in Chinese (the default) and English, and the language of the current request.

Labels follow the glossary of BRIEF §7.  Workflow states and actions carry their own
labels in the definitions (``Label.zh`` / ``Label.en``); :func:`label` picks one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, session

LANGS = ("zh", "en")

TEXTS: dict[str, tuple[str, str]] = {
    "app": ("整改通", "Rectiflow"),
    "app_long": ("巡视巡察整改通", "Rectiflow — inspection rectification"),
    "skip": ("跳到正文", "Skip to content"),
    # navigation
    "my_work": ("我的待办", "My work"),
    "board": ("单位进度", "Unit progress"),
    "ledger": ("整改台账", "Rectification ledger"),
    "supervise_queue": ("督办审批", "Supervision queue"),
    "spotcheck_queue": ("回访督查", "Spot checks"),
    "leads": ("问题线索", "Problem leads"),
    "stats": ("统计分析", "Statistics"),
    "admin": ("系统管理", "Administration"),
    "excel": ("台账导入导出", "Excel import/export"),
    "inbox": ("消息", "Messages"),
    "new_issue": ("移交问题", "Transfer an issue"),
    # auth
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong username or password"),
    "too_many": ("尝试次数过多，请稍后再试", "Too many attempts, try again later"),
    "login_needed": ("请先登录", "Please log in"),
    "language": ("语言", "Language"),
    "switch_lang": ("English", "中文"),
    # roles
    "role_office": ("巡视巡察办", "Inspection office"),
    "role_unit_user": ("经办人", "Unit clerk"),
    "role_unit_head": ("主要负责人", "Principal leader"),
    "role_supervisor": ("督办", "Supervisor"),
    "role_spot_check": ("专项督查组", "Spot-check team"),
    "role_discipline": ("纪委监委", "Discipline commission"),
    "role_leader": ("领导小组", "Leading group"),
    # issue fields
    "number": ("编号", "Number"),
    "title": ("问题", "Issue"),
    "description": ("问题表现", "Description"),
    "category": ("问题归类", "Category"),
    "round": ("轮次", "Round"),
    "team": ("巡视组", "Inspection team"),
    "source": ("来源", "Source"),
    "unit": ("牵头单位", "Lead unit"),
    "unit_code": ("单位代码", "Unit code"),
    "inspected_unit": ("被巡察单位", "Inspected unit"),
    "supporting_units": ("配合单位", "Supporting units"),
    "supervising_leader": ("分管领导", "Supervising leader"),
    "person_in_charge": ("责任人", "Person in charge"),
    "deadline_type": ("整改类型", "Deadline type"),
    "fix_now": ("立行立改", "Fix now"),
    "by_deadline": ("限期整改", "By deadline"),
    "ongoing": ("长期坚持", "Ongoing"),
    "due_on": ("完成时限", "Due date"),
    "due": ("时限", "Deadline"),
    "days_left": ("剩余工作日", "Working days left"),
    "days_overdue": ("已逾期 {n} 个工作日", "{n} working days overdue"),
    "days_to_go": ("还剩 {n} 个工作日", "{n} working days left"),
    "due_today": ("今日到期", "Due today"),
    "provisional": ("暂定", "provisional"),
    "progress": ("整改进度", "Progress"),
    "completion": ("完成情况", "Completion"),
    "grade": ("验收评价", "Grade"),
    "warning": ("预警", "Warning"),
    "green": ("正常", "On track"),
    "yellow": ("黄牌", "Yellow card"),
    "red": ("红牌", "Red card"),
    "overdue": ("逾期", "Overdue"),
    "state": ("状态", "State"),
    "stage": ("阶段", "Stage"),
    "measures": ("整改措施", "Measures"),
    "evidence": ("佐证材料", "Evidence"),
    "timeline": ("办理记录", "Timeline"),
    "diagram": ("流程图", "Workflow diagram"),
    "deadlines": ("时间节点", "Deadlines"),
    "escalations": ("督办记录", "Escalations"),
    "letters": ("督办文书", "Letters"),
    "actions": ("可办理事项", "What you can do"),
    "no_actions": ("当前没有需要您办理的事项。", "Nothing for you to do here now."),
    "rules_written": ("建章立制", "Rules written"),
    "money_recovered": ("挽回经济损失（元）", "Money recovered (¥)"),
    "people_handled": ("处理人数", "People handled"),
    "checker": ("回访人员", "Checker"),
    "opened_at": ("移交时间", "Transferred"),
    "updated_at": ("更新时间", "Updated"),
    "original_due": ("原定时限", "Original due"),
    "clock": ("时限", "Clock"),
    "rung": ("督办层级", "Rung"),
    "fired_at": ("触发时间", "Fired"),
    "issued_at": ("印发时间", "Issued"),
    "open_letter": ("查看", "Open"),
    # stages
    "stage_transfer": ("移交", "Transfer"),
    "stage_handling": ("制定方案", "Handling"),
    "stage_correction": ("整改中", "Correction"),
    "stage_verification": ("验收", "Verification"),
    "stage_closed": ("已销号", "Closed out"),
    "stage_followup": ("回访", "Follow-up"),
    "stage_archived": ("已归档", "Archived"),
    # completion
    "已完成": ("已完成", "Completed"),
    "基本完成": ("基本完成", "Substantially completed"),
    "未完成": ("未完成", "Not completed"),
    # lists
    "search": ("搜索", "Search"),
    "search_hint": ("编号、问题、归类", "number, issue, category"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "All"),
    "sort": ("排序", "Sort"),
    "sort_due": ("时限由近到远", "Deadline, soonest first"),
    "sort_-due": ("时限由远到近", "Deadline, latest first"),
    "sort_number": ("编号", "Number"),
    "sort_-number": ("编号（倒序）", "Number (descending)"),
    "sort_updated": ("最近更新", "Recently updated"),
    "sort_opened": ("最近移交", "Recently transferred"),
    "sort_progress": ("进度由低到高", "Progress, lowest first"),
    "sort_-progress": ("进度由高到低", "Progress, highest first"),
    "only_overdue": ("仅看逾期", "Overdue only"),
    "unit_subtree": ("单位（含下级）", "Unit (and below)"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page_of": ("第 {page} / {pages} 页，共 {total} 条", "Page {page} of {pages}, {total} in all"),
    "nothing": ("暂无记录", "Nothing here"),
    "loading": ("加载中…", "Loading…"),
    "apply": ("确定", "Apply"),
    "cancel": ("取消", "Cancel"),
    "submit": ("提交", "Submit"),
    "save": ("保存", "Save"),
    "select": ("选择", "Select"),
    "select_all": ("全选本页", "Select page"),
    # bulk
    "bulk": ("批量操作", "Bulk actions"),
    "bulk_action": ("批量事项", "Bulk action"),
    "bulk_remind": ("提醒责任单位", "Remind the unit"),
    "bulk_assign_checker": ("指派回访人员", "Assign checker"),
    "bulk_approve": ("批量审核通过方案", "Approve plans"),
    "bulk_preview": ("预览", "Preview"),
    "bulk_confirm": ("确认执行", "Confirm"),
    "bulk_will": ("将执行以下操作：", "This will happen:"),
    "bulk_ok": ("可以执行", "will be done"),
    "bulk_skip": ("将跳过", "will be skipped"),
    "bulk_done": ("已完成 {ok} 项，跳过 {skipped} 项", "{ok} done, {skipped} skipped"),
    "bulk_none": ("请先勾选问题", "Select issues first"),
    "reminder_sent": ("已发送提醒", "Reminder sent"),
    # board & stats
    "unit_name": ("单位", "Unit"),
    "total": ("问题总数", "Issues"),
    "done": ("销号合计", "Closed (all)"),
    "not_done": ("未销号", "Not closed"),
    "rate": ("完成率", "Completion rate"),
    "drill": ("展开下级", "Show units below"),
    "collapse": ("收起", "Collapse"),
    "whole_scope": ("全部范围", "Whole scope"),
    "auto_refresh": ("每分钟自动刷新", "Refreshes every minute"),
    "by_category": ("按问题归类", "By category"),
    "by_round": ("按轮次", "By round"),
    "over_time": ("整改完成趋势", "Completion over time"),
    "opened_per_month": ("累计移交", "Transferred (cumulative)"),
    "closed_cumulative": ("累计销号", "Closed (cumulative)"),
    "overdue_by_unit": ("各单位逾期问题", "Overdue by unit"),
    "level": ("层级", "Level"),
    "level_province": ("省", "Province"),
    "level_city": ("市", "City"),
    "level_county": ("县", "County"),
    "outcomes": ("整改成效", "Outcomes"),
    "measures_count": ("整改措施（项）", "Measures"),
    "relapses": ("反弹回潮", "Relapses"),
    "leads_count": ("移交问题线索", "Leads transferred"),
    "by_cadre": ("按干部层级", "By cadre level"),
    "disposed": ("已处置", "Disposed"),
    "disposition_rate": ("处置率", "Disposition rate"),
    "cases_opened": ("立案", "Cases opened"),
    "sanctions": ("党纪政务处分", "Sanctions"),
    "org_measures": ("组织处理", "Organisational measures"),
    "supervision": ("督办问责", "Supervision and accountability"),
    "letter_reminder": ("提醒书", "Reminder"),
    "letter_supervision_notice": ("督办通知书", "Supervision notice"),
    "letter_admonition": ("告诫书", "Admonition"),
    "letter_talk_notice": ("约谈通知", "Admonitory meeting"),
    "letter_circulated_notice": ("通报", "Circulated notice"),
    "print": ("打印", "Print"),
    # queues
    "waiting_for_me": ("等待我审批", "Waiting for my decision"),
    "assigned_to_me": ("指派给我的回访", "Follow-ups assigned to me"),
    "reverse_sample": ("随机抽查已销号问题", "Random sample of closed items"),
    "reverse_hint": (
        "从非本单位的已销号问题中随机抽取，用于倒查虚假整改（回避本单位）。",
        "Drawn at random from closed items outside your own unit, to find false close-outs.",
    ),
    # evidence
    "upload": ("上传", "Upload"),
    "file": ("文件", "File"),
    "size": ("大小", "Size"),
    "uploaded_by": ("上传人", "Uploaded by"),
    "upload_hint": (
        "支持 PDF、PNG、JPEG、DOCX、XLSX，单个文件不超过 {mb} MB。",
        "PDF, PNG, JPEG, DOCX or XLSX, at most {mb} MB each.",
    ),
    "bad_file": ("不支持的文件类型", "This file type is not accepted"),
    "empty_file": ("请选择文件", "Choose a file"),
    "uploaded": ("已上传", "Uploaded"),
    # forms & errors
    "version_field": ("版本", "Version"),
    "conflict_title": ("该问题已被他人更新", "Someone else changed this issue"),
    "conflict_body": (
        "在您填写期间，以下变化已经发生。您填写的内容已保留，请核对后再次提交。",
        "These changes happened while you were filling in the form. Your input is kept; "
        "check it and submit again.",
    ),
    "denied": ("无法办理", "Not allowed"),
    "fix_errors": ("请修改标红的内容", "Please correct the marked fields"),
    "done_ok": ("已办理", "Done"),
    "measures_hint": (
        "每行一项：措施 | 完成日期（YYYY-MM-DD）",
        "One per line: measure | YYYY-MM-DD",
    ),
    "units_hint": ("单位代码，以逗号分隔", "Unit codes, separated by commas"),
    "user_hint": ("用户名", "Username"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "by": ("办理人", "By"),
    "at": ("时间", "When"),
    "action": ("事项", "Action"),
    "changes": ("变更", "Changes"),
    "system": ("系统", "System"),
    "open_issue_submit": ("移交", "Transfer"),
    "error_403": ("没有权限", "Not allowed"),
    "error_404": ("未找到", "Not found"),
    "error_405": ("不支持的请求方式", "Method not allowed"),
    "error_413": ("文件过大", "File too large"),
    "error_400": ("请求无效", "Bad request"),
    "error_csrf": ("页面已过期，请刷新后重试", "The page expired; reload and try again"),
    "error_500": ("系统错误，请稍后再试", "Something went wrong; please try again later"),
    "back_home": ("返回我的待办", "Back to my work"),
    # notifications
    "bell": ("通知", "Notifications"),
    "unread": ("未读 {n} 条", "{n} unread"),
    "mark_read": ("标为已读", "Mark read"),
    "mark_all_read": ("全部标为已读", "Mark all read"),
    "no_messages": ("没有新消息", "No messages"),
    "all_messages": ("查看全部消息", "All messages"),
    # admin
    "units": ("单位", "Units"),
    "users": ("用户与角色", "Users and roles"),
    "rounds": ("轮次与巡视组", "Rounds and teams"),
    "definitions": ("流程定义", "Workflow definitions"),
    "add_unit": ("新增单位", "Add unit"),
    "add_user": ("新增用户", "Add user"),
    "name": ("名称", "Name"),
    "parent_code": ("上级单位代码", "Parent unit code"),
    "display_name": ("姓名", "Name"),
    "email": ("邮箱", "Email"),
    "roles": ("角色", "Roles"),
    "roles_hint": ("每行一个：角色@单位代码，如 unit_user@HZ-XH", "One per line: ROLE@UNITCODE"),
    "active": ("启用", "Active"),
    "kind": ("类型", "Kind"),
    "period": ("时间", "Period"),
    "teams": ("巡视组", "Teams"),
    "organiser": ("组织单位", "Organiser"),
    "version": ("版本", "Version"),
    "loaded_at": ("载入时间", "Loaded"),
    "source_text": ("定义文件", "Source"),
    "validate": ("校验定义文件", "Validate definitions"),
    "valid": ("全部定义文件校验通过", "Every definition file is valid"),
    "added": ("已添加", "Added"),
    "issues_count": ("问题数", "Issues"),
    "states": ("状态", "States"),
    # linkage (巡视巡察上下联动)
    "linkage": ("上下联动", "Linkage"),
    "lk_rounds": ("轮次与巡视巡察组", "Rounds and teams"),
    "lk_push": ("三级联动", "Push down"),
    "lk_checks": ("专项检查", "Special checks"),
    "lk_network": ("联动监督网统计", "Network statistics"),
    "round_kind_xunshi": ("巡视", "Inspection (province)"),
    "round_kind_xuncha": ("巡察", "Inspection (city/county)"),
    "round_code": ("轮次代码", "Round code"),
    "organiser_code": ("组织单位代码", "Organiser unit code"),
    "previous_round": ("上一轮（接力）", "Previous round (relay)"),
    "previous_round_hint": (
        "选择上一轮即为接力式巡察：本轮巡察组可承接其未完成和反弹的问题。",
        "Choosing a previous round makes this a relay round: its teams inherit open and "
        "relapsed items.",
    ),
    "relay": ("接力", "Relay"),
    "relay_rounds": ("接力轮次", "Relay rounds"),
    "starts_on": ("开始日期", "Starts"),
    "ends_on": ("结束日期", "Ends"),
    "none": ("无", "None"),
    "create_round": ("新建轮次", "New round"),
    "form_team": ("组建巡视巡察组", "Form team"),
    "team_name": ("组名", "Team name"),
    "team_leader": ("组长", "Team leader"),
    "team_members": ("组成员", "Members"),
    "team_targets": ("巡视巡察对象", "Inspected units"),
    "team_target": ("巡视巡察对象", "Inspected unit"),
    "add_member": ("增加成员", "Add member"),
    "add_target": ("增加对象", "Add inspected unit"),
    "recusal_record": ("回避记录", "Recusal record"),
    "no_such_user": ("没有用户 {name}", "No user {name}"),
    "unit_code_required": ("请填写单位代码", "Enter a unit code"),
    "relay_and_shared": ("接力与共享信息", "Relay and shared information"),
    "relay_view": (
        "接力事项（前几轮未完成、长期坚持和反弹的问题）",
        "Relay items (open, ongoing and relapsed items of earlier rounds)",
    ),
    "relay_hint": (
        "勾选问题并承接到本轮，新问题与原问题关联，便于接力跟踪、防止反弹回潮。",
        "Select items to carry into this round; each new item stays linked to the old one.",
    ),
    "relay_reason": ("原因", "Why"),
    "relay_checks": ("已关联的检查", "Linked checks"),
    "carry_over": ("承接到本轮", "Carry over"),
    "carried": ("已承接：{numbers}", "Carried over: {numbers}"),
    "choose_items": ("请先勾选问题", "Select items first"),
    "not_relay_item": (
        "问题 {id} 不是本组的接力事项",
        "Issue {id} is not a relay item of this team",
    ),
    "shared_space": ("共享信息空间", "Shared information space"),
    "shared_hint": (
        "本组可见的问题：本轮本组对象的问题、同步开展的内部巡察的问题、下级此前巡察发现的问题（问题线索除外）。",
        "Findings this team sees: its own round's, a simultaneous internal inspection's, and "
        "lower levels' earlier findings (problem leads excepted).",
    ),
    "info_source": ("来源", "Source"),
    "src_own": ("本轮", "This round"),
    "src_simultaneous": ("同步巡察", "Simultaneous inspection"),
    "src_earlier": ("下级此前巡察", "Earlier lower-level inspection"),
    "sk_open": ("未销号", "Open"),
    "sk_ongoing": ("长期坚持", "Ongoing"),
    "sk_closed": ("已销号", "Closed"),
    "sk_relapsed": ("反弹回潮", "Relapsed"),
    "push_title": ("省级问题下沉（三级联动）", "Push a finding down (three-level linkage)"),
    "push_hint": (
        "选择一个共性问题或整改问题，按规则匹配市、县单位，预览后确认：每个市、县各设一个共性问题，匹配单位各自整改。",
        "Choose a common problem or finding, match city and county units by a rule, preview, "
        "then confirm: each city and county gets its own common problem, each matching unit "
        "its own rectification.",
    ),
    "push_number": ("问题编号", "Issue number"),
    "push_levels": ("单位层级", "Unit levels"),
    "push_name_contains": ("名称包含", "Name contains"),
    "push_code_suffix": ("代码后缀", "Code suffix"),
    "push_under": ("限定范围（单位代码）", "Only under (unit code)"),
    "push_codes": ("或直接列出单位代码", "Or list unit codes"),
    "push_will": ("将下沉到以下 {n} 个单位：", "Will be pushed down to these {n} units:"),
    "push_confirm": ("确认下沉", "Confirm push-down"),
    "push_recent": ("已下沉的共性问题", "Findings pushed down"),
    "no_such_issue": (
        "范围内没有编号为 {number} 的共性问题或整改问题",
        "No common problem or finding {number} in your scope",
    ),
    "rollup": ("上下汇总", "Roll-up"),
    "pushed_from": ("来源问题：", "Pushed down from:"),
    "rollup_above": ("上级", "Above"),
    "rollup_root": ("本问题为最上级", "This is the top of the tree"),
    "rollup_below": ("下级汇总", "Below"),
    "rollup_leaves": ("整改问题数", "Rectification items"),
    "rollup_rate_def": (
        "已销号的整改问题 / 全部整改问题（长期坚持不计为销号）",
        "Closed rectification items / all rectification items (ongoing never counts as closed)",
    ),
    "rollup_depth": ("层次", "Depth"),
    "rollup_common": ("其中共性问题", "Common problems"),
    "rollup_children": ("直接下级", "Children"),
    "common_problem": ("共性问题", "Common problem"),
    "checks_hint": (
        "对下级巡察工作开展专项检查：按整改完成率、逾期率、反弹率、线索按期办理率逐项检查，不达标的项目自动移交整改。",
        "Special checks of lower levels' inspection work: completion, overdue, relapse and "
        "lead handling rates; every failed item is opened as a rectification issue.",
    ),
    "check_target": ("被检查单位代码", "Checked unit code"),
    "check_checker": ("检查单位", "Checking unit"),
    "run_check": ("开展专项检查", "Run the check"),
    "check_done": ("专项检查已完成，移交问题 {n} 个", "Check done; {n} issues opened"),
    "choose_checker": ("请选择检查单位", "Choose the checking unit"),
    "check_passed": ("全部达标", "Passed"),
    "check_failed": ("存在不达标项", "Items failed"),
    "check_item": ("检查项目", "Item"),
    "check_value": ("实际", "Value"),
    "check_mark": ("标准", "Mark"),
    "check_result": ("结果", "Result"),
    "check_issue": ("移交问题", "Issue opened"),
    "check_pass": ("达标", "Pass"),
    "check_fail": ("不达标", "Fail"),
    "check_nothing": ("无可计量事项", "nothing to measure"),
    "check_completion_rate": ("整改完成率", "Completion rate"),
    "check_overdue_rate": ("整改逾期率", "Overdue rate"),
    "check_relapse_rate": ("问题反弹率", "Relapse rate"),
    "check_leads_on_time_rate": ("问题线索按期办理率", "Leads handled on time"),
    "check_def_completion_rate": ("已销号 / 全部整改问题", "Closed / all rectification issues"),
    "check_def_overdue_rate": (
        "最早时限已过的未销号问题 / 全部整改问题",
        "Open issues past their earliest deadline / all",
    ),
    "check_def_relapse_rate": ("反弹问题 / 曾销号问题", "Relapsed / ever closed"),
    "check_def_leads_on_time_rate": (
        "按期反馈的线索 / 应反馈的线索",
        "Leads fed back on time / leads due",
    ),
    "level_township": ("乡镇（街道）", "Township"),
    "level_department": ("部门", "Department"),
    "level_village": ("村（社区）", "Village"),
    "net_by_level": ("按层级", "By level"),
    "net_by_round": ("按轮次", "By round"),
    "net_by_round_hint": (
        "鼠标悬停数字可查看口径、分类明细和来源；“填”表示人工填报。",
        "Hover a figure for its definition, breakdown and source; “e” marks an entered figure.",
    ),
    "net_entered_mark": ("填", "e"),
    "net_metric": ("指标", "Figure"),
    "net_mode": ("取得方式", "Obtained"),
    "net_computed": ("系统计算", "Computed"),
    "net_entered": ("人工填报", "Entered"),
    "net_handed_up": ("下级上报", "Handed up"),
    "net_handed_up_def": (
        "本单位以下组织的轮次的合计（覆盖党组织按单位去重）",
        "Totals of the rounds organised below this unit (units covered counted once)",
    ),
    "net_no_round": ("（未关联轮次）", "(no round)"),
    "net_definitions": ("指标口径", "Definitions"),
    "net_definition": ("口径", "Definition"),
    "net_enter": ("填报指标", "Enter a figure"),
    "net_enter_hint": (
        "只有无数据来源的指标可填报（个别谈话、来信来电来访、个人事项抽查、提请协助），须注明来源；再次填报将替换原值并留痕。",
        "Only figures without data behind them can be entered, each with its source; "
        "entering again replaces the value and keeps the old one on record.",
    ),
    "net_value": ("数值", "Value"),
    "net_source_hint": ("如：省委巡视办工作通报", "e.g. the office's circulated report"),
    "whole_number": ("请输入不小于 0 的整数", "Enter a whole number ≥ 0"),
    "figure_saved": ("已保存", "Saved"),
}


def get_lang() -> str:
    """The language of this request: the session's choice, else the cookie, else Chinese.

    Read once per request (kept in ``g``): a page asks for it once per translated text,
    ~150 times for the ledger.  The routes that change it redirect at once.
    """
    lang = g.get("lang")
    if lang is None:
        lang = session.get("lang") or request.cookies.get("lang") or "zh"
        lang = g.lang = lang if lang in LANGS else "zh"
    return str(lang)


def t(key: str, **params: Any) -> str:
    """The UI text for ``key`` in the request's language (the key itself when unknown)."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if get_lang() == "en" else pair[0]
    return text.format(**params) if params else text


def label(obj: Any) -> str:
    """A definition Label (``.zh``/``.en``) in the request's language."""
    if obj is None:
        return ""
    return obj.en if get_lang() == "en" else obj.zh


def init_app(app: Flask) -> None:
    """Make ``t``, ``label`` and ``lang`` available in every template."""
    app.jinja_env.globals.update(t=t, label=label, error_text=error_text)

    @app.context_processor
    def _lang() -> dict[str, str]:
        return {"lang": get_lang()}


ERRORS: dict[str, tuple[str, str]] = {
    "required": ("必填", "Required"),
    "must be confirmed": ("请勾选确认", "Please confirm"),
    "not a valid date (use YYYY-MM-DD)": (
        "日期格式不正确（YYYY-MM-DD）",
        "Not a valid date (YYYY-MM-DD)",
    ),
    "not a whole number": ("请输入整数", "Not a whole number"),
    "not a number": ("请输入数字", "Not a number"),
    "text is expected": ("请输入文字", "Text is expected"),
}


def error_text(message: str) -> str:
    """An engine validation message in the request's language (as given when unknown)."""
    pair = ERRORS.get(message)
    if pair is None:
        return message
    return pair[1] if get_lang() == "en" else pair[0]
