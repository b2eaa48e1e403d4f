"""Standard field definitions of the emulated CRM entities, as `crm.*.fields` describes them.

One table per entity, in the order `crm.deal.get` prints fields. Types are Bitrix's own
(`crm_status`, `user`, `crm_company`, ...) because clients read them from `crm.*.fields`, and because
the type decides how a value is stored, filtered and printed (see values.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Types whose stored value is an integer id (None when unset).
ID_TYPES = {"integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_quote", "crm_category",
            "crm_entity", "location", "employee", "enumeration"}


@dataclass(frozen=True)
class FieldDef:
    """One field. `uf` fields are user fields; `multiple` values are lists."""

    name: str
    type: str
    title: str = ""
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    required: bool = False
    deprecated: bool = False
    selectable: bool = True
    status_type: str | None = None
    settings: dict[str, Any] | None = None
    uf: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    default: Any = None  # stored value a new record gets (user fields: DEFAULT_VALUE / DEF item)

    def describe(self) -> dict[str, Any]:
        """The `crm.*.fields` entry for this field."""
        out: dict[str, Any] = {"type": self.type, "isRequired": self.required, "isReadOnly": self.read_only,
                               "isImmutable": self.immutable, "isMultiple": self.multiple,
                               "isDynamic": self.uf}
        if self.deprecated:
            out["isDeprecated"] = True
        if self.status_type:
            out["statusType"] = self.status_type
        out["title"] = self.title or self.name
        if self.settings is not None:
            out["settings"] = self.settings
        out.update(self.extra)
        return out


def _table(spec: str) -> dict[str, FieldDef]:
    """Lines of `NAME type [flags] | Title`; flags: ro imm mult req dep nosel status=X parent=N."""
    fields: dict[str, FieldDef] = {}
    for line in filter(str.strip, spec.splitlines()):
        head, _, title = line.partition("|")
        name, ftype, *flags = head.split()
        kw: dict[str, Any] = {"title": title.strip()}
        for flag in flags:
            if flag.startswith("status="):
                kw["status_type"] = flag[7:]
            elif flag.startswith("parent="):
                kw["settings"] = {"parentEntityTypeId": int(flag[7:])}
            else:
                key = {"ro": "read_only", "imm": "immutable", "mult": "multiple", "req": "required",
                       "dep": "deprecated", "nosel": "selectable"}[flag]
                kw[key] = flag != "nosel"
        fields[name] = FieldDef(name, ftype, **kw)
    return fields


_UTM = """
UTM_SOURCE string | Advertising System
UTM_MEDIUM string | Traffic Type
UTM_CAMPAIGN string | Campaign Identifier
UTM_CONTENT string | Campaign Content
UTM_TERM string | Campaign Search Condition
"""

DEAL = _table("""
ID integer ro | ID
TITLE string | Title
TYPE_ID crm_status status=DEAL_TYPE | Type
STAGE_ID crm_status status=DEAL_STAGE | Deal Stage
PROBABILITY integer | Probability
CURRENCY_ID crm_currency | Currency
OPPORTUNITY double | Amount
IS_MANUAL_OPPORTUNITY char | IS_MANUAL_OPPORTUNITY
TAX_VALUE double | Tax Rate
LEAD_ID crm_lead ro parent=1 | Lead
COMPANY_ID crm_company parent=4 | Company
CONTACT_ID crm_contact dep | Contact
CONTACT_IDS crm_contact mult nosel | Contacts
QUOTE_ID crm_quote ro parent=7 | Estimate
BEGINDATE date | Start Date
CLOSEDATE date | Close Date
ASSIGNED_BY_ID user | Responsible
CREATED_BY_ID user ro | Created By
MODIFY_BY_ID user ro | Modified By
DATE_CREATE datetime ro | Creation Date
DATE_MODIFY datetime ro | Modification Date
OPENED char | Available to All
CLOSED char | Closed
COMMENTS string | Comment
ADDITIONAL_INFO string | Additional Information
LOCATION_ID location | Location
CATEGORY_ID crm_category imm | Sales Funnel
STAGE_SEMANTIC_ID string ro | Stage Group
IS_NEW char ro | New Deal
IS_RECURRING char | Recurring Deal
IS_RETURN_CUSTOMER char | Repeat Deal
IS_REPEATED_APPROACH char | Repeated Approach
SOURCE_ID crm_status status=SOURCE | Source
SOURCE_DESCRIPTION string | Additional Info about Source
ORIGINATOR_ID string | External Source
ORIGIN_ID string | Identifier in External Source
MOVED_BY_ID user ro | MOVED_BY_ID
MOVED_TIME datetime ro | MOVED_TIME
LAST_ACTIVITY_TIME datetime ro | LAST_ACTIVITY_TIME
""" + _UTM + """
LAST_ACTIVITY_BY user ro | LAST_ACTIVITY_BY
""")

_ADDRESS = """
ADDRESS string | Street, building
ADDRESS_2 string | Suite / Apartment
ADDRESS_CITY string | City
ADDRESS_POSTAL_CODE string | Zip
ADDRESS_REGION string | Region
ADDRESS_PROVINCE string | State / Province
ADDRESS_COUNTRY string | Country
ADDRESS_COUNTRY_CODE string | Country Code
"""

_COMMON_TAIL = """
ASSIGNED_BY_ID user | Responsible
CREATED_BY_ID user ro | Created By
MODIFY_BY_ID user ro | Modified By
DATE_CREATE datetime ro | Created
DATE_MODIFY datetime ro | Modified
LEAD_ID crm_lead ro parent=1 | Lead
ORIGINATOR_ID string | External Source
ORIGIN_ID string | Item ID in data source
ORIGIN_VERSION string | Original Version
""" + _UTM + """
LAST_ACTIVITY_TIME datetime ro | LAST_ACTIVITY_TIME
LAST_ACTIVITY_BY user ro | LAST_ACTIVITY_BY
PHONE crm_multifield mult | Phone
EMAIL crm_multifield mult | E-mail
WEB crm_multifield mult | Website
IM crm_multifield mult | Messenger
"""

COMPANY = _table("""
ID integer ro | ID
TITLE string req | Company Name
COMPANY_TYPE crm_status status=COMPANY_TYPE | Company type
LOGO file | Logo
""" + _ADDRESS + """
ADDRESS_LEGAL string | Legal address
BANKING_DETAILS string | Payment details
INDUSTRY crm_status status=INDUSTRY | Industry
EMPLOYEES crm_status status=EMPLOYEES | Employees
CURRENCY_ID crm_currency | Currency
REVENUE double | Annual revenue
OPENED char | Available to everyone
COMMENTS string | Comment
HAS_PHONE char ro | Has phone
HAS_EMAIL char ro | Has email
HAS_IMOL char ro | Has Open Channel
IS_MY_COMPANY char | My Company
""" + _COMMON_TAIL)

CONTACT = _table("""
ID integer ro | ID
HONORIFIC crm_status status=HONORIFIC | Salutation
NAME string | First name
SECOND_NAME string | Second name
LAST_NAME string | Last name
PHOTO file | Photo
BIRTHDATE date | Date of birth
TYPE_ID crm_status status=CONTACT_TYPE | Contact type
SOURCE_ID crm_status status=SOURCE | Source
SOURCE_DESCRIPTION string | Source information
POST string | Position
""" + _ADDRESS + """
COMMENTS string | Comment
OPENED char | Available to everyone
EXPORT char | Included in export
HAS_PHONE char ro | Has phone
HAS_EMAIL char ro | Has email
HAS_IMOL char ro | Has Open Channel
COMPANY_ID crm_company parent=4 | Company
COMPANY_IDS crm_company mult | Companies
FACE_ID integer | Linked to Face Tracker
""" + _COMMON_TAIL)

REQUISITE = _table("""
ID integer ro | ID
ENTITY_TYPE_ID integer req imm | Entity type ID
ENTITY_ID integer req imm | Entity ID
PRESET_ID integer req | Template
DATE_CREATE datetime ro | Created on
DATE_MODIFY datetime ro | Modified on
CREATED_BY_ID user ro | Created by
MODIFY_BY_ID user ro | Modified by
NAME string req | Name
CODE string | Symbolic Code
XML_ID string | External ID
ORIGINATOR_ID string | External source
ACTIVE char | Active
ADDRESS_ONLY char | Address only
SORT integer | Sort
RQ_NAME string | Full name
RQ_FIRST_NAME string | First name
RQ_LAST_NAME string | Last name
RQ_SECOND_NAME string | Second name
RQ_COMPANY_NAME string | Company name
RQ_COMPANY_FULL_NAME string | Full company name
RQ_COMPANY_REG_DATE string | Registration date
RQ_DIRECTOR string | CEO
RQ_ACCOUNTANT string | Chief accountant
RQ_CONTACT string | Contact person
RQ_EMAIL string | E-mail
RQ_PHONE string | Phone
RQ_INN string | INN
RQ_KPP string | KPP
RQ_OGRN string | OGRN
RQ_OGRNIP string | OGRNIP
RQ_OKPO string | OKPO
RQ_OKTMO string | OKTMO
RQ_OKVED string | OKVED
RQ_VAT_ID string | VAT ID
""")

BANKDETAIL = _table("""
ID integer ro | ID
ENTITY_ID integer req imm | Requisite ID
COUNTRY_ID integer | Country ID
DATE_CREATE datetime ro | Created on
DATE_MODIFY datetime ro | Modified on
CREATED_BY_ID user ro | Created by
MODIFY_BY_ID user ro | Modified by
NAME string req | Name
CODE string | Symbolic Code
XML_ID string | External ID
ACTIVE char | Active
SORT integer | Sort
RQ_BANK_NAME string | Bank name
RQ_BANK_ADDR string | Bank address
RQ_BIK string | BIK
RQ_ACC_NAME string | Account name
RQ_ACC_NUM string | Account number
RQ_ACC_CURRENCY string | Account currency
RQ_COR_ACC_NUM string | Correspondent account
RQ_IBAN string | IBAN
RQ_SWIFT string | SWIFT
RQ_BIC string | BIC
COMMENTS string | Comment
ORIGINATOR_ID string | External source
""")

# Smart-process items exist only in the crm.item API; these are their upper-case storage names.
DYNAMIC = _table("""
ID integer ro | ID
XML_ID string | External ID
TITLE string | Name
CREATED_BY user ro | Created by
UPDATED_BY user ro | Updated by
MOVED_BY user ro | Moved by
CREATED_TIME datetime ro | Created on
UPDATED_TIME datetime ro | Updated on
MOVED_TIME datetime ro | Moved on
CATEGORY_ID crm_category | Pipeline
OPENED char | Available to everyone
STAGE_ID crm_status | Stage
PREVIOUS_STAGE_ID crm_status ro | Previous stage
BEGINDATE date | Start date
CLOSEDATE date | End date
COMPANY_ID crm_company parent=4 | Company
CONTACT_ID crm_contact dep | Contact
CONTACT_IDS crm_contact mult | Contacts
OPPORTUNITY double | Amount
IS_MANUAL_OPPORTUNITY char | Manual amount
TAX_VALUE double | Tax
CURRENCY_ID crm_currency | Currency
MYCOMPANY_ID crm_company | Your company details
SOURCE_ID crm_status status=SOURCE | Source
SOURCE_DESCRIPTION string | Source information
ASSIGNED_BY_ID user | Responsible person
LAST_ACTIVITY_BY user ro | Last activity by
LAST_ACTIVITY_TIME datetime ro | Last activity on
OBSERVERS user mult | Observers
""")

# crm.item names that do not follow plain snake→camel for the old-API storage names.
ITEM_ALIASES = {"DATE_CREATE": "createdTime", "DATE_MODIFY": "updatedTime", "CREATED_BY_ID": "createdBy",
                "MODIFY_BY_ID": "updatedBy", "MOVED_BY_ID": "movedBy"}
