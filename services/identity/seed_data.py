"""Demo accounts created by `python -m services.identity seed` in the embedded (dev) mode only."""

DEMO_ACCOUNTS = [
    {"phone": "+84901234567", "password": "congdan-demo-2025", "full_name": "Nguyễn Văn An",
     "role": "citizen", "agency_code": "", "home_ward_code": "26743"},
    {"phone": "+84912345678", "password": "canbo-demo-2025", "full_name": "Trần Thị Bình",
     "role": "officer", "agency_code": "ubnd_26743", "home_ward_code": "26743"},
    {"phone": "+84938765432", "password": "quantri-demo-2025", "full_name": "Phạm Quốc Dũng",
     "role": "agency_admin", "agency_code": "ubnd_26743", "home_ward_code": ""},
    {"phone": "+84987654321", "password": "dieuhanh-demo-2025", "full_name": "Lê Minh Châu",
     "role": "operator", "agency_code": "", "home_ward_code": ""},
    {"phone": "+84978123456", "password": "kiemtoan-demo-2025", "full_name": "Võ Thị Em",
     "role": "auditor", "agency_code": "", "home_ward_code": ""},
]
