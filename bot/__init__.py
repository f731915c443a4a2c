"""« Apprendre à faire alliance » assistant: the project's own Python code.

Plain-Python modules (no Rasa import) hold the domain logic so that it can be
tested and reused by the web app: ``bot.questionnaire`` (the maturity
questionnaire as validated data) and ``bot.scoring`` (the diagnostic result).
"""
